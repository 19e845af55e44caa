#!/usr/bin/env python3
# The web server of the noVNC test (novnc.sh): serves Debian's noVNC and our page on loopback,
# and takes back what the page reports (events, the canvas as PNG) into files for the script.
"""usage: serve.py --novnc DIR --page DIR --out DIR --port-file FILE

GET /novnc/...   files of DIR (Debian's /usr/share/novnc)
GET /page/...    files of the page directory (page.html, page.js)
POST /event      one line of text appended to OUT/events.log
POST /shot       a PNG data URL (the canvas): written to OUT/browser.png (atomically)
The port it listens on (loopback, chosen by the kernel) goes to FILE once it serves."""
import argparse
import base64
import http.server
import os
import sys
import urllib.parse

MAX_POST = 64 << 20
TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
         '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
         '.json': 'application/json'}


class Handler(http.server.BaseHTTPRequestHandler):
    roots = {}
    out = ''

    def log_message(self, fmt, *args):
        with open(os.path.join(self.out, 'http.log'), 'a') as f:
            f.write((fmt % args) + '\n')

    def reply(self, code, body=b'', ctype='text/plain'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-store')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        parts = [p for p in urllib.parse.unquote(path).split('/') if p]
        if len(parts) < 2 or parts[0] not in self.roots or '..' in parts:
            return self.reply(404, b'not found\n')
        file = os.path.join(self.roots[parts[0]], *parts[1:])
        try:
            with open(file, 'rb') as f:
                body = f.read()
        except OSError:
            return self.reply(404, b'not found\n')
        ctype = TYPES.get(os.path.splitext(file)[1], 'application/octet-stream')
        self.reply(200, body, ctype)

    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n < 0 or n > MAX_POST:
            return self.reply(413)
        body = self.rfile.read(n)
        path = urllib.parse.urlsplit(self.path).path
        if path == '/event':
            with open(os.path.join(self.out, 'events.log'), 'ab') as f:
                f.write(body.replace(b'\n', b' ') + b'\n')
            return self.reply(204)
        if path == '/shot':
            prefix = b'data:image/png;base64,'
            if not body.startswith(prefix):
                return self.reply(400, b'a PNG data URL is expected\n')
            tmp = os.path.join(self.out, '.browser.png.tmp')
            with open(tmp, 'wb') as f:
                f.write(base64.b64decode(body[len(prefix):]))
            os.replace(tmp, os.path.join(self.out, 'browser.png'))
            return self.reply(204)
        self.reply(404)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('--novnc', required=True)
    ap.add_argument('--page', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--port-file', required=True)
    a = ap.parse_args()
    Handler.roots = {'novnc': a.novnc, 'page': a.page}
    Handler.out = a.out
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
