#!/bin/bash
# The control API's network commands on a running guest (kbdecho, which only waits): nics
# lists both adapters with their switch, link and counters; frames that a host port forward
# sends toward the guest show in the counters; nic-connect plugs the unplugged adapter into
# a private switch and moves the other between switches (its forward goes with it),
# nic-disconnect unplugs it; every link change is a nic-link event; bad names get clear
# errors. usage: nic-control.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/procs.sh
. "$here/../lib/procs.sh"
tmp=$(mktemp -d)
trap 'procs_stop_all; rm -rf "$tmp"' EXIT

die() {
	echo "FAIL: nic-control: $*"
	[[ -f $tmp/vm.log ]] && sed 's/^/    vm: /' "$tmp/vm.log"
	exit 1
}

kernel=$guests/kbdecho.elf
[[ -r $kernel ]] || die "$kernel missing: build the guest programs"
command -v python3 >/dev/null || { echo "SKIP: nic-control: python3 not found"; exit 77; }
export OSIO_STORE_DIR=$tmp/store
[[ -n ${OSIO_RUNTIME_DIR-} ]] || export OSIO_RUNTIME_DIR=$tmp/run
mkdir -p -m 700 "$OSIO_RUNTIME_DIR"
"$osio" switch create lab --type private >"$tmp/switch.log" 2>&1 ||
	die "osio switch create lab failed: $(cat "$tmp/switch.log")"
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
vm=nicctl-$$
procs_spawn "$tmp/vm.log" "$osio" run --kernel "$kernel" --append timeout=110 --name "$vm" \
	--vnc none --serial none --timeout 115s \
	--nic "e1000,forward=udp:127.0.0.1:$port->5555" --nic virtio,switch=lab,connected=no
sock=$OSIO_RUNTIME_DIR/$vm.sock
for ((i = 0; i < 100; i++)); do
	[[ -S $sock ]] && break
	kill -0 "$PROCS_LAST_PID" 2>/dev/null || die "osio run ended early"
	sleep 0.1
done
[[ -S $sock ]] || die "no control socket at $sock"

python3 - "$sock" "$port" <<'EOF' || die "the control API test failed (see above)"
import json, socket, sys, time

sock, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sock)
# Reads only: a text file's write drops what it has read ahead (an event after a reply).
f = s.makefile("r")
events = []
seen = []


def fail(msg):
    print("FAIL: nic-control: " + msg)
    sys.exit(1)


greeting = json.loads(f.readline())
for c in ("nics", "nic-connect", "nic-disconnect"):
    if c not in greeting["osio"]["commands"]:
        fail("the greeting lists no %s: %s" % (c, greeting))


def call(cmd, **args):
    s.sendall((json.dumps({"execute": cmd, "arguments": args}) + "\n").encode())
    while True:
        msg = json.loads(f.readline())
        if "event" in msg:
            events.append(msg)
            seen.append(msg)
            continue
        return msg


def ok(cmd, **args):
    r = call(cmd, **args)
    if "return" not in r:
        fail("%s %s: %s" % (cmd, args, r))
    return r["return"]


def nics():
    return {n["nic"]: n for n in ok("nics")["nics"]}


def rx(n):
    return n["stats"]["rx-frames"] + n["stats"]["rx-dropped"]


def event(nic, link):
    # Events come after the reply that caused them: read until one is here.
    deadline = time.time() + 5
    while time.time() < deadline:
        for e in events:
            if e["event"] == "nic-link" and e["data"]["nic"] == nic and e["data"]["link"] == link:
                events.remove(e)
                return e["data"]
        ok("query-status")
        time.sleep(0.1)
    fail("no nic-link event for %s link %s (got %s)" % (nic, link, seen))


def poke_forward(before, what):
    """A datagram to the host forward: the NAT switch sends the guest frames."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(50):
        u.sendto(b"ping", ("127.0.0.1", port))
        time.sleep(0.2)
        n = nics()["nic0"]
        if rx(n) > before:
            return n
    fail("%s: no frame reached nic0 through the forward: %s" % (what, n))


n = nics()
if sorted(n) != ["nic0", "nic1"]:
    fail("nics: %s" % n)
a, b = n["nic0"], n["nic1"]
if (a["model"], a["switch"], a["switch-type"], a["link"]) != ("e1000", "default", "nat", True):
    fail("nic0 at start: %s" % a)
if (b["model"], b["switch"], b["link"]) != ("virtio", None, False):
    fail("nic1 at start (unplugged): %s" % b)
if not a["mac"].startswith("52:4f:53:") or a["mac"] == b["mac"]:
    fail("MAC addresses: %s and %s" % (a["mac"], b["mac"]))
a = poke_forward(rx(a), "on the NAT switch")
print("ok: nics lists both adapters; the forward's frames count: %s" % a["stats"])

r = ok("nic-connect", nic="nic1", switch="lab")
if (r["switch"], r["switch-type"], r["link"]) != ("lab", "private", True):
    fail("nic-connect nic1 lab: %s" % r)
event("nic1", True)
print("ok: nic1 plugged into the private switch lab")

r = ok("nic-disconnect", nic="nic0")
if (r["switch"], r["link"]) != (None, False):
    fail("nic-disconnect nic0: %s" % r)
event("nic0", False)
if rx(r) != rx(a):
    fail("the counters changed while unplugged: %s then %s" % (a["stats"], r["stats"]))
r = ok("nic-connect", nic="nic0", switch="lab")
if (r["switch"], r["link"]) != ("lab", True):
    fail("nic-connect nic0 lab: %s" % r)
event("nic0", True)
r = ok("nic-connect", nic="nic0", switch="default")
if (r["switch"], r["switch-type"], r["link"]) != ("default", "nat", True):
    fail("nic-connect nic0 default: %s" % r)
poke_forward(rx(r), "back on the NAT switch")
print("ok: nic0 unplugged, moved to lab and back; its forward came along")

for args, cls, text in (
    ({"nic": "nic9", "switch": "lab"}, "invalid-argument", "the VM has no adapter 'nic9'"),
    ({"nic": "nic0", "switch": "nope"}, "invalid-argument",
     "no switch 'nope'; create it with: osio switch create nope --type private"),
    ({"nic": "nic0"}, "invalid-argument", "switch: the name of a switch is needed"),
    ({"switch": "lab"}, "invalid-argument", "nic: the adapter's name is needed"),
):
    r = call("nic-connect", **args)
    e = r.get("error", {})
    if e.get("class") != cls or text not in e.get("desc", ""):
        fail("nic-connect %s: %s" % (args, r))
r = call("nic-disconnect", nic=3)
if r.get("error", {}).get("class") != "invalid-argument":
    fail("nic-disconnect 3: %s" % r)
if nics()["nic0"]["link"] is not True:
    fail("a failed command changed nic0")
print("ok: bad names and switches get clear errors")
EOF
echo "PASS: nic-control"
