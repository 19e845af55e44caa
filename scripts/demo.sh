#!/usr/bin/env bash
# osio's main job for a first look: the osio console, with a ready demo VM.
# The VM "demo" is made in your VM store once: 256 MiB, no hard disk, no
# network, and Debian's GRUB rescue ISO in its DVD drive, so it boots through
# SeaBIOS into GRUB's menu on any machine (no hardware virtualization needed).
# - On a terminal: opens the console (osio with no arguments). Select demo,
#   press s to start it, c to connect to its screen, ? for help, q to quit.
# - Without a terminal (a pipe, CI): starts demo, waits for its screen, saves
#   it as a PNG, prints its state, and turns it off again.
# usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
osio=$build/osio
[ -x "$osio" ] || { echo "demo: $osio is missing; build first: cmake --preset default && cmake --build --preset default" >&2; exit 1; }
iso=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
[ -r "$iso" ] || { echo "demo: $iso is missing; run scripts/install-deps.sh (package grub-rescue-pc)" >&2; exit 1; }

if ! "$osio" status demo >/dev/null 2>&1; then
	echo "demo: creating the VM 'demo' in your VM store (GRUB rescue ISO on its DVD drive)"
	"$osio" create demo --memory 256M --cpus 1 --disk none --dvd "$iso" --switch none --boot dvd
fi

if [ -t 0 ] && [ -t 1 ]; then
	exec "$osio"
fi

echo "demo: no terminal here, so instead of the console: starting demo, showing its state, turning it off"
running=
"$osio" status demo 2>/dev/null | grep -q '^State: *Running' && running=yes
[ -n "$running" ] || "$osio" start demo
for _ in $(seq 1 60); do
	"$osio" status demo | grep -q '^State: *Running' && break
	sleep 0.5
done
sleep 5 # SeaBIOS and GRUB draw the menu
shot=$(mktemp --suffix=.png "${TMPDIR:-/tmp}/osio-demo-XXXXXX")
tools=$build/tests/connect/connect_ctlcall
if [ -x "$tools" ]; then
	"$tools" demo screenshot "{\"file\": \"$shot\"}" >/dev/null && echo "demo: its screen: $shot"
fi
"$osio" list
[ -n "$running" ] || "$osio" stop demo
echo "demo: run $osio on a terminal for the console"
