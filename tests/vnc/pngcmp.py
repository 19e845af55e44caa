#!/usr/bin/env python3
"""Compares two PNG pictures pixel for pixel (RGB; an alpha channel must be
opaque), with python3 and zlib only.

    pngcmp.py A.png B.png   -> exit 0 equal, 1 different (says where), 2 bad file
"""
import struct
import sys
import zlib


def load(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("%s: only 8-bit RGB/RGBA, not interlaced" % path)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    pixels = []
    for y in range(h):
        for x in range(w):
            px = rows[y][x * bpp:x * bpp + bpp]
            if bpp == 4 and px[3] != 255:
                raise ValueError("%s: pixel (%d,%d) is not opaque (alpha %d)" % (path, x, y, px[3]))
            pixels.append(bytes(px[:3]))
    return w, h, pixels


def main():
    try:
        wa, ha, a = load(sys.argv[1])
        wb, hb, b = load(sys.argv[2])
    except (OSError, ValueError, zlib.error, struct.error, TypeError) as e:
        print("pngcmp: %s" % e)
        return 2
    if (wa, ha) != (wb, hb):
        print("pngcmp: sizes differ: %dx%d and %dx%d" % (wa, ha, wb, hb))
        return 1
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if diff:
        xs = [i % wa for i in diff]
        ys = [i // wa for i in diff]
        print("pngcmp: %d pixels differ, within (%d,%d)-(%d,%d); first (%d,%d): %s vs %s" %
              (len(diff), min(xs), min(ys), max(xs), max(ys), xs[0], ys[0],
               a[diff[0]].hex(), b[diff[0]].hex()))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
