#!/usr/bin/env python3
"""Writes an osio keymap (share/keymaps/<name>) from xkeyboard-config's
symbols files (Debian's xkb-data, /usr/share/X11/xkb).

    share/keymaps/xkb2osio.py us en-us "English (US)" > share/keymaps/en-us

Only the main block (the keys whose symbols depend on the layout) is written:
levels 1-4 of each key become "<keysym> <KEY_...> [shift] [altgr]" lines.
Keys that are the same everywhere (Return, F1, the arrows, modifiers) are
built into osio (vnc/keymap.c)."""
import os
import re
import sys

XKB = os.environ.get("XKB_DIR", "/usr/share/X11/xkb")
EVDEV_H = "/usr/include/linux/input-event-codes.h"
KEYSYM_H = "/usr/include/X11/keysymdef.h"  # x11proto-dev

# The keys a layout defines; the keypad's decimal key too (kpdl).
MAIN = (["TLDE", "BKSL", "LSGT", "SPCE", "KPDL"] +
        ["AE%02d" % i for i in range(1, 13)] + ["AD%02d" % i for i in range(1, 13)] +
        ["AC%02d" % i for i in range(1, 13)] + ["AB%02d" % i for i in range(1, 11)])
LEVEL_MODS = ["", " shift", " altgr", " shift altgr"]


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def read_variants(fname):
    text = strip_comments(open(os.path.join(XKB, "symbols", fname)).read())
    variants, default = {}, None
    for m in re.finditer(r'((?:\w+\s+)*)xkb_symbols\s+"([^"]+)"\s*\{', text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        variants[m.group(2)] = text[m.end():i - 1]
        if default is None or "default" in m.group(1).split():
            default = m.group(2) if default is None or "default" in m.group(1).split() else default
    return variants, default


def resolve(spec, keys):
    m = re.match(r"([\w-]+)(?:\(([\w-]+)\))?$", spec)
    fname, variant = m.group(1), m.group(2)
    variants, default = read_variants(fname)
    body = variants[variant or default]
    for st in re.finditer(r'include\s+"([^"]+)"|key\s+<(\w+)>\s*\{(.*?)\}\s*;', body, re.S):
        if st.group(1):
            for part in re.split(r"[+|]", st.group(1)):
                if part:
                    resolve(part, keys)
            continue
        name, inner = st.group(2), st.group(3)
        lists = re.findall(r"(?<![\w\]])\[([^\]]*)\]", inner)
        if not lists:
            continue
        syms = [s.strip() for s in lists[0].split(",")]
        keys[name] = syms


def evdev_codes():
    codes = {}
    for line in open(os.path.join(XKB, "keycodes", "evdev")):
        m = re.match(r"\s*<(\w+)>\s*=\s*(\d+)\s*;", line)
        if m:
            codes[m.group(1)] = int(m.group(2)) - 8
    names = {}
    for line in open(EVDEV_H):
        m = re.match(r"#define\s+(KEY_\w+)\s+(0x[0-9a-fA-F]+|\d+)", line)
        if m:
            names.setdefault(int(m.group(2), 0), m.group(1))
    return {k: names[v] for k, v in codes.items() if v in names}


def known_keysyms():
    names = set()
    for line in open(KEYSYM_H):
        m = re.match(r"#define\s+XK_(\w+)\s+0x", line)
        if m:
            names.add(m.group(1))
    return names


def main():
    layout, name, title = sys.argv[1:4]
    keys = {}
    resolve(layout, keys)
    ev = evdev_codes()
    known = known_keysyms()
    print("# %s: %s, from xkeyboard-config's symbols/%s" % (name, title, layout))
    print("# (levels 1-4 of the keys that depend on the layout; see README).")
    print("# <keysym> <key> [shift] [altgr]")
    for key in MAIN:
        if key not in keys:
            continue
        for level, sym in enumerate(keys[key][:4]):
            if sym in ("NoSymbol", "VoidSymbol", ""):
                continue
            m = re.match(r"U([0-9A-Fa-f]{4,6})$", sym)
            if m:
                cp = int(m.group(1), 16)
                sym = "U+%04X" % cp
            elif sym.startswith("0x"):
                v = int(sym, 16)
                sym = "U+%04X" % (v - 0x1000000) if v >= 0x1000000 else sym
            elif sym not in known:
                sys.exit("%s: keysym %s has no XK_ name in %s" % (layout, sym, KEYSYM_H))
            mods = "" if key == "KPDL" else LEVEL_MODS[level]
            print("%s %s%s" % (sym, ev[key], mods))


main()
