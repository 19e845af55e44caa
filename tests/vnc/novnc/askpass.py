#!/usr/bin/env python3
# Runs a client that reads its password from a terminal (gvnccapture) on a pseudo-terminal and
# types line N of a password file at its "Password:" prompt: real clients, scripted.
"""usage: askpass.py --password-file FILE [--line N] [--timeout S] -- COMMAND [ARGS...]
Prints what COMMAND wrote (without the password); exits with its status (124 on the timeout)."""
import argparse
import os
import pty
import select
import signal
import sys
import termios
import time


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('--password-file', required=True)
    ap.add_argument('--line', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=30)
    ap.add_argument('command', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ['--'] else a.command
    if not cmd:
        ap.error('a command is needed')
    with open(a.password_file, encoding='latin-1') as f:
        lines = f.read().split('\n')
    password = lines[a.line - 1] if a.line <= len(lines) else ''
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    seen = b''
    answered = False
    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.stdout.write(seen.decode('utf-8', 'replace'))
            print('askpass: %s did not end within %.0f s' % (cmd[0], a.timeout))
            return 124
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                data = b''
            if not data:
                break
            seen += data
            if not answered and b'assword:' in seen:
                # The prompt comes before the client turns echo off, and turning it off
                # (TCSAFLUSH) drops what was typed already: answer once echo is off.
                wait = time.monotonic() + 5
                while termios.tcgetattr(fd)[3] & termios.ECHO and time.monotonic() < wait:
                    time.sleep(0.02)
                os.write(fd, password.encode('latin-1') + b'\n')
                answered = True
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode('utf-8', 'replace').replace('\r', ''))
    return os.waitstatus_to_exitcode(status)


if __name__ == '__main__':
    sys.exit(main())
