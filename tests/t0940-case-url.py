#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helper of t0940-case-url.sh: forged envelopes, made as
spec/encryption.md section 2 says through libsodium, independently of hlx.

    t0940-case-url.py seal BOXKEY CONTEXT PLAINTEXT OUT
        OUT: PLAINTEXT sealed to BOXKEY ("hlx-box BASE64") alone, bound
        to CONTEXT
"""
import base64
import ctypes
import ctypes.util
import hashlib
import struct
import sys

na = ctypes.CDLL(ctypes.util.find_library("sodium"))
assert na.sodium_init() >= 0
na.crypto_secretstream_xchacha20poly1305_statebytes.restype = ctypes.c_size_t


def seal(box, context, plain):
    assert box.startswith("hlx-box ")
    pk = base64.b64decode(box[8:].strip())
    assert len(pk) == 32
    key = ctypes.create_string_buffer(32)
    na.crypto_secretstream_xchacha20poly1305_keygen(key)
    wrapped = ctypes.create_string_buffer(32 + 48)
    assert na.crypto_box_seal(wrapped, key, ctypes.c_ulonglong(32), pk) == 0
    state = ctypes.create_string_buffer(
        na.crypto_secretstream_xchacha20poly1305_statebytes())
    ss = ctypes.create_string_buffer(24)
    assert na.crypto_secretstream_xchacha20poly1305_init_push(state, ss, key) == 0
    header = b"hlxseal1" + struct.pack(">I", 1) + wrapped.raw + ss.raw
    ad = hashlib.sha256(header + context).digest()
    out = [header]
    chunks = [plain[i:i + 65536] for i in range(0, len(plain), 65536)]
    if not chunks or len(chunks[-1]) == 65536:
        chunks.append(b"")
    for i, m in enumerate(chunks):
        c = ctypes.create_string_buffer(len(m) + 17)
        clen = ctypes.c_ulonglong(0)
        tag = 3 if i == len(chunks) - 1 else 0
        assert na.crypto_secretstream_xchacha20poly1305_push(
            state, c, ctypes.byref(clen), m, ctypes.c_ulonglong(len(m)),
            ad, ctypes.c_ulonglong(len(ad)), ctypes.c_ubyte(tag)) == 0
        out.append(c.raw[:clen.value])
    return b"".join(out)


def main():
    if sys.argv[1] == "seal":
        box, context, plain, out = sys.argv[2:6]
        with open(out, "wb") as f:
            f.write(seal(box, context.encode(), plain.encode()))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
