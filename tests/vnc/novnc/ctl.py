#!/usr/bin/env python3
# One request on a VM's control socket (newline-separated JSON) for the VNC tests: prints the
# reply's "return" as JSON, or the error and exits 1.
"""usage: ctl.py SOCKET COMMAND [ARGUMENTS-AS-JSON]
e.g. ctl.py vm.sock screenshot '{"file": "/tmp/a.png"}'; ctl.py vm.sock query-status"""
import json
import socket
import sys


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    req = {'execute': sys.argv[2], 'id': 1}
    if len(sys.argv) == 4:
        req['arguments'] = json.loads(sys.argv[3])
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sys.argv[1])
        f = s.makefile('rwb')
        f.readline()  # the greeting
        f.write(json.dumps(req).encode() + b'\n')
        f.flush()
        while True:
            line = f.readline()
            if not line:
                print('ctl: %s: the VM closed the control socket' % sys.argv[1])
                return 1
            msg = json.loads(line)
            if msg.get('id') == 1:
                break
    except (OSError, ValueError) as e:
        print('ctl: %s: %s' % (sys.argv[1], e))
        return 1
    if 'error' in msg:
        print('ctl: %s: %s' % (sys.argv[2], msg['error'].get('desc')))
        return 1
    print(json.dumps(msg.get('return')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
