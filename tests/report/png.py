"""Reads a PNG with the standard library only (zlib): enough for the
figures cairo writes and the screenshots Chromium takes (8-bit RGB or RGBA,
not interlaced). read(path) -> (width, height, pixels) where pixels is a
list of rows, each a bytes object of 3 or 4 bytes per pixel; channels(path)
tells which."""

import struct
import zlib


def read(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG" % path)
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("%s: unsupported PNG (depth %d, colour type %d)" % (path, depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
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
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def colours(path):
    """(width, height, {(r, g, b): count}) of the opaque pixels."""
    w, h, rows, bpp = read(path)
    seen = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            if bpp == 4 and row[x + 3] < 250:
                continue
            k = (row[x], row[x + 1], row[x + 2])
            seen[k] = seen.get(k, 0) + 1
    return w, h, seen


def near(seen, rgb, tol=24):
    """How many pixels are within tol (per channel) of rgb."""
    return sum(n for k, n in seen.items() if all(abs(k[i] - rgb[i]) <= tol for i in range(3)))
