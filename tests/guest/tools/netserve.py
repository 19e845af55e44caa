#!/usr/bin/env python3
"""Host side of the guest network tests: servers on 127.0.0.1 for a guest behind the NAT switch
to reach, and clients for the host port forwards that reach a guest.

  netserve.py serve             a UDP echo server (answers "echo: " + the datagram) and an HTTP
                                server with /hello.txt and /pattern/N (N bytes
                                of a known pattern) on free ports; prints "udp=PORT http=PORT"
                                on one line, then serves until killed
  netserve.py free-ports N      N port numbers free for both TCP and UDP on 127.0.0.1
  netserve.py udp PORT TEXT     sends TEXT to 127.0.0.1:PORT, prints the reply (status 1 if none
                                within --timeout seconds)
  netserve.py tcp PORT TEXT     connects to 127.0.0.1:PORT, sends TEXT and a newline, prints
                                what comes back until the server closes
"""
import argparse
import http.server
import socket
import sys
import threading

HELLO = b"Hello from the host's loopback.\nThis is hello.txt.\n"


PATTERN_MAX = 64 << 20


def pattern(n):
    """/pattern/N: byte i is (i * 31 + (i >> 8) + 7) mod 256, as the guest checks it."""
    return bytes((i * 31 + (i >> 8) + 7) & 0xFF for i in range(n))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, closed by the server

    def do_GET(self):
        if self.path == "/hello.txt":
            body, kind = HELLO, "text/plain"
        elif self.path.startswith("/pattern/") and self.path[9:].isdigit() \
                and int(self.path[9:]) <= PATTERN_MAX:
            body, kind = pattern(int(self.path[9:])), "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("netserve: http: " + (fmt % args) + "\n")


def udp_echo(sock):
    while True:
        data, peer = sock.recvfrom(65535)
        sys.stderr.write("netserve: udp: %r from %s:%d\n" % (data, peer[0], peer[1]))
        sock.sendto(b"echo: " + data, peer)


def serve():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=udp_echo, args=(udp,), daemon=True).start()
    print("udp=%d http=%d" % (udp.getsockname()[1], httpd.server_address[1]), flush=True)
    httpd.serve_forever()


def free_ports(n):
    held, ports = [], []
    while len(ports) < n:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        held += [t, u]
        ports.append(port)
    for s in held:
        s.close()
    print(" ".join(str(p) for p in ports))


def udp_client(port, text, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(text.encode(), ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        print("netserve: no UDP reply from 127.0.0.1:%d within %g s" % (port, timeout),
              file=sys.stderr)
        return 1
    print(data.decode(errors="replace"))
    return 0


def tcp_client(port, text, timeout):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(text.encode() + b"\n")
        got = b""
        while True:
            data = s.recv(4096)
            if not data:
                break
            got += data
    except OSError as e:
        print("netserve: TCP 127.0.0.1:%d: %s" % (port, e), file=sys.stderr)
        return 1
    sys.stdout.write(got.decode(errors="replace"))
    return 0 if got else 1


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["serve", "free-ports", "udp", "tcp"])
    p.add_argument("args", nargs="*")
    p.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    if a.command == "serve":
        serve()
        return 0
    if a.command == "free-ports":
        free_ports(int(a.args[0]) if a.args else 1)
        return 0
    if len(a.args) != 2 or not a.args[0].isdigit():
        p.error("%s needs PORT TEXT" % a.command)
    port, text = int(a.args[0]), a.args[1]
    if a.command == "udp":
        return udp_client(port, text, a.timeout)
    return tcp_client(port, text, a.timeout)


if __name__ == "__main__":
    sys.exit(main())
