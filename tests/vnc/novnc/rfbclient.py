#!/usr/bin/env python3
# A small RFB 3.8 client for the VNC tests (auth.sh): VNC password authentication, screen
# captures in Raw encoding, key events, a watching viewer, and hostile clients (garbage,
# truncated messages, floods) that the server must drop. Python's standard library only; DES
# for VNC authentication comes from the system's libcrypto (OpenSSL's DES_ecb_encrypt).
"""usage: rfbclient.py --port PORT [--host HOST] [--password-file FILE [--line N]]
                    [--timeout S] COMMAND [ARGS...]

commands:
  probe               print the security types the server offers
  capture OUT.png     connect (shared), get the whole screen in Raw encoding, save it
  keys KEYSYM...      press and release each key (X keysym: a name below or 0xNNNN), then
                      wait until the server answered a request sent after them
  watch STOPFILE OUT.png
                      a viewer: asks for the whole screen four times a second until STOPFILE
                      exists (300 s at most); fails if an update took over 5 s; saves the
                      last screen
  garbage MODE        a hostile client (modes below); succeeds when the server closes the
                      connection within --timeout seconds
  stall SECONDS       asks for whole screens and never reads them, for SECONDS

garbage modes: random, bad-version, bad-security, truncated-auth, truncated-init,
  bad-message, truncated-message, bad-pixel-format, huge-cut-text, flood

Exit status: 0 done, 1 failed, 3 the server refused us (authentication), 2 usage."""
import argparse
import ctypes
import ctypes.util
import os
import random
import socket
import struct
import sys
import threading
import time
import zlib

KEYSYMS = {
    'Escape': 0xff1b, 'Return': 0xff0d, 'space': 0x20, 'Tab': 0xff09, 'BackSpace': 0xff08,
    'Shift_L': 0xffe1, 'Control_L': 0xffe3, 'Alt_L': 0xffe9, 'Delete': 0xffff,
}


class Refused(Exception):
    pass


def die(msg, status=1):
    print('rfbclient: ' + msg, flush=True)
    sys.exit(status)


# --- VNC authentication (RFB 6.2.2): DES-ECB of the challenge with the password as key, each
# key byte's bits mirrored.

def des_encrypt(key, data):
    name = ctypes.util.find_library('crypto')
    if not name:
        die('no libcrypto found for DES (install the Debian package libssl3)')
    lib = ctypes.CDLL(name)
    schedule = ctypes.create_string_buffer(256)
    lib.DES_set_key_unchecked(ctypes.create_string_buffer(key, 8), schedule)
    out = b''
    for i in range(0, len(data), 8):
        block = ctypes.create_string_buffer(8)
        lib.DES_ecb_encrypt(ctypes.create_string_buffer(data[i:i + 8], 8), block, schedule, 1)
        out += block.raw
    return out


def vnc_response(password, challenge):
    key = password.encode('latin-1', 'replace')[:8].ljust(8, b'\0')
    key = bytes(int('{:08b}'.format(b)[::-1], 2) for b in key)
    return des_encrypt(key, challenge)


# --- PNG (RGB, 8 bits, no filter) for captures.

def write_png(path, width, height, rgb):
    rows = b''.join(b'\0' + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))

    png = (b'\x89PNG\r\n\x1a\n' +
           chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
           chunk(b'IDAT', zlib.compress(rows, 6)) + chunk(b'IEND', b''))
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(png)
    os.replace(tmp, path)


class Client:
    def __init__(self, args):
        self.args = args
        self.sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.sock.settimeout(args.timeout)
        self.width = self.height = 0
        self.fb = bytearray()

    def recv(self, n):
        buf = b''
        while len(buf) < n:
            got = self.sock.recv(n - len(buf))
            if not got:
                raise ConnectionError('the server closed the connection')
            buf += got
        return buf

    def send(self, data):
        self.sock.sendall(data)

    def version(self):
        v = self.recv(12)
        if not v.startswith(b'RFB ') or v[-1:] != b'\n':
            raise ConnectionError('not an RFB server: %r' % v)
        self.send(b'RFB 003.008\n')
        return v

    def reason(self):
        (n,) = struct.unpack('>I', self.recv(4))
        return self.recv(min(n, 4096)).decode('utf-8', 'replace')

    def security_types(self):
        (n,) = struct.unpack('B', self.recv(1))
        if n == 0:
            raise Refused('the server refuses: ' + self.reason())
        return list(self.recv(n))

    def password(self):
        a = self.args
        if not a.password_file:
            return None
        with open(a.password_file, encoding='latin-1') as f:
            lines = f.read().split('\n')
        if a.line > len(lines):
            die('%s has no line %d' % (a.password_file, a.line), 2)
        return lines[a.line - 1].rstrip('\r')

    def authenticate(self):
        """Version and security: VNC authentication with the password given, else None."""
        self.version()
        types = self.security_types()
        pw = self.password()
        if pw is not None:
            if 2 not in types:
                raise Refused('the server offers no VNC authentication (types %s)' % types)
            self.send(b'\x02')
            self.send(vnc_response(pw, self.recv(16)))
        else:
            if 1 not in types:
                raise Refused('the server wants authentication (types %s)' % types)
            self.send(b'\x01')
        (result,) = struct.unpack('>I', self.recv(4))
        if result != 0:
            raise Refused('authentication failed: ' + self.reason())

    def init(self):
        self.authenticate()
        self.send(b'\x01')  # ClientInit: shared
        w, h = struct.unpack('>HH', self.recv(4))
        self.recv(16)
        self.name = self.recv(struct.unpack('>I', self.recv(4))[0]).decode('utf-8', 'replace')
        self.resize(w, h)
        # 32 bits per pixel, depth 24, little endian, true colour, blue in the low byte.
        self.send(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        # Raw, and DesktopSize (-223) so that a mode change is a rectangle, not a surprise.
        self.send(struct.pack('>BxHii', 2, 2, 0, -223))

    def resize(self, w, h):
        self.width, self.height = w, h
        self.fb = bytearray(w * h * 4)

    def request(self, incremental=False, x=0, y=0, w=None, h=None):
        w = self.width if w is None else w
        h = self.height if h is None else h
        self.send(struct.pack('>BBHHHH', 3, 1 if incremental else 0, x, y, w, h))

    def key(self, keysym, down):
        self.send(struct.pack('>BBxxI', 4, 1 if down else 0, keysym))

    def message(self):
        """Reads one server message; True for a framebuffer update."""
        (kind,) = struct.unpack('B', self.recv(1))
        if kind == 0:
            (n,) = struct.unpack('>xH', self.recv(3))
            for _ in range(n):
                x, y, w, h, enc = struct.unpack('>HHHHi', self.recv(12))
                if enc == -223:
                    self.resize(w, h)
                    continue
                if enc != 0:
                    raise ConnectionError('encoding %d, which we did not ask for' % enc)
                if x + w > self.width or y + h > self.height:
                    raise ConnectionError('rectangle %dx%d+%d+%d outside the %dx%d screen' %
                                          (w, h, x, y, self.width, self.height))
                data = self.recv(w * h * 4)
                for row in range(h):
                    o = ((y + row) * self.width + x) * 4
                    self.fb[o:o + w * 4] = data[row * w * 4:(row + 1) * w * 4]
            return True
        if kind == 1:
            _, n = struct.unpack('>xHH', self.recv(5))
            self.recv(6 * n)
        elif kind == 2:
            pass
        elif kind == 3:
            self.recv(3)
            self.reason()
        else:
            raise ConnectionError('unknown server message %d' % kind)
        return False

    def full_screen(self):
        """Asks for the whole screen until an update covers it (a resize asks again)."""
        for _ in range(4):
            size = (self.width, self.height)
            self.request()
            while not self.message():
                pass
            if (self.width, self.height) == size:
                return
        raise ConnectionError('the screen size keeps changing')

    def rgb(self):
        px = self.fb
        out = bytearray(self.width * self.height * 3)
        out[0::3] = px[2::4]
        out[1::3] = px[1::4]
        out[2::3] = px[0::4]
        return bytes(out)

    def save(self, path):
        write_png(path, self.width, self.height, self.rgb())


def keysym(name):
    if name in KEYSYMS:
        return KEYSYMS[name]
    if len(name) == 1:
        return ord(name)
    try:
        return int(name, 0)
    except ValueError:
        die('unknown keysym %r' % name, 2)


def cmd_probe(c, args):
    v = c.version()
    try:
        types = c.security_types()
    except Refused as e:
        print('version: %s; %s' % (v.decode().strip(), e))
        return 3
    print('version: %s; security types: %s' % (v.decode().strip(),
                                                ' '.join(str(t) for t in types)))
    return 0


def cmd_capture(c, args):
    if len(args.rest) != 1:
        die('capture needs OUT.png', 2)
    c.init()
    c.full_screen()
    c.save(args.rest[0])
    print('capture: %dx%d from "%s" in %s' % (c.width, c.height, c.name, args.rest[0]))
    return 0


def cmd_keys(c, args):
    syms = [keysym(k) for k in args.rest]
    c.init()
    for s in syms:
        c.key(s, True)
        c.key(s, False)
    # The server handles a viewer's messages in order: once it answers this request, it has
    # handled the keys before it.
    c.full_screen()
    print('keys: %d sent and handled' % len(syms))
    return 0


def cmd_watch(c, args):
    if len(args.rest) != 2:
        die('watch needs STOPFILE OUT.png', 2)
    stop, out = args.rest
    c.init()
    start = time.monotonic()
    end = start + 300
    last = start
    updates = 0
    worst = 0.0
    c.sock.settimeout(5)
    while time.monotonic() < end and not os.path.exists(stop):
        c.request()
        try:
            while not c.message():
                pass
        except socket.timeout:
            die('watch: no screen update for 5 s (after %d)' % updates)
        now = time.monotonic()
        worst = max(worst, now - last)
        last = now
        updates += 1
        c.save(out)
        time.sleep(0.25)
    print('watch: %d whole-screen updates in %.0f s, at most %.2f s apart' %
          (updates, time.monotonic() - start, worst))
    return 0


def closed_by_server(c, deadline):
    """Reads (and drops) what the server sends until it closes; False at the deadline."""
    c.sock.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            if not c.sock.recv(65536):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def cmd_garbage(c, args):
    if len(args.rest) != 1:
        die('garbage needs a MODE', 2)
    mode = args.rest[0]
    rnd = random.Random(1234)
    junk = bytes(rnd.getrandbits(8) for _ in range(4096))
    shut = True
    try:
        if mode == 'random':
            c.recv(12)
            c.send(junk)
        elif mode == 'bad-version':
            c.recv(12)
            c.send(b'RFB 999.999\n')
        elif mode == 'bad-security':
            c.version()
            c.security_types()
            c.send(b'\x63')  # a type the server did not offer
        elif mode == 'truncated-auth':
            c.version()
            c.security_types()
            c.send(b'\x02')
            c.recv(16)
            c.send(b'\0' * 7)  # 7 of the 16 bytes of the response, then the end
        elif mode == 'truncated-init':
            c.authenticate()  # and then the end instead of ClientInit
        elif mode == 'bad-message':
            c.init()
            c.send(b'\xee' + junk[:64])
        elif mode == 'truncated-message':
            c.init()
            c.send(struct.pack('>BxH', 2, 1000) + b'\0\0\0\0' * 10)  # 10 of 1000 encodings
        elif mode == 'bad-pixel-format':
            c.init()
            c.send(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 13, 24, 0, 1, 255, 255, 255, 16, 8, 0))
            shut = False
        elif mode == 'huge-cut-text':
            c.init()
            c.send(struct.pack('>BxxxI', 6, 0xfffffff0) + junk)
            shut = False
        elif mode == 'flood':
            c.init()
            # Incremental requests of an unchanged screen: nothing to send back, as fast as
            # the socket takes them, while a thread reads whatever comes.
            stop = threading.Event()

            def drain():
                c.sock.settimeout(0.5)
                while not stop.is_set():
                    try:
                        if not c.sock.recv(1 << 20):
                            return
                    except socket.timeout:
                        continue
                    except OSError:
                        return

            t = threading.Thread(target=drain, daemon=True)
            t.start()
            burst = struct.pack('>BBHHHH', 3, 1, 0, 0, 8, 8) * 1000
            sent = 0
            end = time.monotonic() + args.timeout
            try:
                while time.monotonic() < end:
                    c.sock.sendall(burst)
                    sent += 1000
            except OSError:
                print('garbage: flood: the server closed the connection after %d requests'
                      % sent)
                stop.set()
                return 0
            stop.set()
            t.join()
            die('garbage: flood: %d requests in %d s and the connection is still open' %
                (sent, args.timeout))
        else:
            die('unknown garbage mode %r' % mode, 2)
        if shut:
            c.sock.shutdown(socket.SHUT_WR)
    except Refused as e:
        die('garbage: %s: refused before the garbage: %s' % (mode, e), 3)
    except OSError:
        print('garbage: %s: the server closed the connection while we sent' % mode)
        return 0
    if closed_by_server(c, time.monotonic() + args.timeout):
        print('garbage: %s: the server closed the connection' % mode)
        return 0
    die('garbage: %s: the connection is still open after %d s' % (mode, args.timeout))


def cmd_stall(c, args):
    if len(args.rest) != 1:
        die('stall needs SECONDS', 2)
    c.init()
    end = time.monotonic() + float(args.rest[0])
    n = 0
    c.sock.settimeout(0.2)
    while time.monotonic() < end:
        try:
            c.request()
            n += 1
        except socket.timeout:
            pass
        except OSError:
            print('stall: the server closed the connection after %d requests' % n)
            return 0
        time.sleep(0.05)
    print('stall: %d whole-screen requests sent, none read' % n)
    return 0


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--password-file')
    ap.add_argument('--line', type=int, default=1)
    ap.add_argument('--timeout', type=int, default=10)
    ap.add_argument('command')
    ap.add_argument('rest', nargs='*')
    args = ap.parse_args()
    cmds = {'probe': cmd_probe, 'capture': cmd_capture, 'keys': cmd_keys, 'watch': cmd_watch,
            'garbage': cmd_garbage, 'stall': cmd_stall}
    if args.command not in cmds:
        die('unknown command %r' % args.command, 2)
    try:
        c = Client(args)
    except OSError as e:
        die('cannot connect to %s:%d: %s' % (args.host, args.port, e))
    try:
        return cmds[args.command](c, args)
    except Refused as e:
        die(str(e), 3)
    except (OSError, ConnectionError, struct.error) as e:
        die('%s: %s' % (args.command, e))


if __name__ == '__main__':
    sys.exit(main())
