# SPDX-License-Identifier: MIT
# Writes hostile git packs for tests/t0760-hostile-packs.sh:
#   t0760-bomb.py delta OUT MIB   a 64 KiB blob, then an OFS_DELTA on it whose
#                                 one-byte copy instructions each copy 64 KiB,
#                                 declaring a MIB MiB result (a few hundred bytes)
#   t0760-bomb.py count OUT       a header declaring 2^32-1 objects, then one
import hashlib, struct, sys, zlib

def objhdr(t, size):
    b = [(t << 4) | (size & 15)]
    size >>= 4
    while size:
        b[-1] |= 0x80
        b.append(size & 0x7f)
        size >>= 7
    return bytes(b)

def varint(n):
    b = []
    while True:
        c = n & 0x7f
        n >>= 7
        b.append(c | (0x80 if n else 0))
        if not n:
            return bytes(b)

def ofs(n):  # git's offset encoding for OFS_DELTA
    b = [n & 0x7f]
    n >>= 7
    while n:
        n -= 1
        b.insert(0, 0x80 | (n & 0x7f))
        n >>= 7
    return bytes(b)

def pack(count, body):
    data = b'PACK' + struct.pack('>II', 2, count) + body
    return data + hashlib.sha1(data).digest()

kind, out = sys.argv[1], sys.argv[2]
base = b'\0' * 65536
b1 = objhdr(3, len(base)) + zlib.compress(base, 9)
if kind == 'delta':
    n = int(sys.argv[3]) * 16  # 64 KiB per instruction
    delta = varint(len(base)) + varint(n * 65536) + b'\x80' * n
    b2 = objhdr(6, len(delta)) + ofs(len(b1)) + zlib.compress(delta, 9)
    data = pack(2, b1 + b2)
else:
    data = pack(0xffffffff, b1)
open(out, 'wb').write(data)
