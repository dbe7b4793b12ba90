#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Helper of t0940-case-url.sh: forged envelopes, made as
spec/encryption.md section 2 says through libsodium, independently of hlx.

    t0940-case-url.py seal BOXKEY CONTEXT PLAINTEXT OUT
        OUT: PLAINTEXT sealed to BOXKEY ("hlx-box BASE64") alone, bound
        to CONTEXT
    t0940-case-url.py who FILE HOME...
        the node homes (unencrypted keys/box.key) whose box key opens a
        wrapped copy of FILE's file key, one a line: who can read it
    t0940-case-url.py spread HOME...
        every plan bundle (plans/NAME/HASH.json) of every home into every
        other, acts merged, until feeds carry plans (as t0920 does)
"""
import base64
import ctypes
import ctypes.util
import glob
import hashlib
import json
import os
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


def box_secret(home):
    """The X25519 key pair of a node's box key (keys.md key file, no
    passphrase), as keys/seal.c derives it."""
    text = open(home + "/keys/box.key").read().split("\n")
    raw = base64.b64decode("".join(l for l in text if l and not l.startswith("-----")))
    assert len(raw) == 145 and raw[8] == 0, "want an unencrypted key file"
    seed = ctypes.create_string_buffer(32)
    mlen = ctypes.c_ulonglong(0)
    assert na.crypto_aead_xchacha20poly1305_ietf_decrypt(
        seed, ctypes.byref(mlen), None, raw[97:], ctypes.c_ulonglong(48),
        raw[:97], ctypes.c_ulonglong(97), raw[41:65], bytes(32)) == 0
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    na.crypto_sign_seed_keypair(pk, sk, seed)
    xpk, xsk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(32)
    assert na.crypto_sign_ed25519_pk_to_curve25519(xpk, pk) == 0
    assert na.crypto_sign_ed25519_sk_to_curve25519(xsk, sk) == 0
    return xpk.raw, xsk.raw


def who(path, homes):
    data = open(path, "rb").read()
    assert data[:8] == b"hlxseal1", path + ": not an envelope"
    n = struct.unpack(">I", data[8:12])[0]
    out = []
    for h in homes:
        pk, sk = box_secret(h)
        for i in range(n):
            w = data[12 + 80 * i:12 + 80 * (i + 1)]
            key = ctypes.create_string_buffer(32)
            if na.crypto_box_seal_open(key, w, ctypes.c_ulonglong(80), pk, sk) == 0:
                out.append(h)
                break
    return out


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spread(homes):
    for src in homes:
        for path in glob.glob(os.path.join(src, "plans", "*", "*.json")):
            rel = os.path.relpath(path, src)
            with open(path) as f:
                b = json.load(f)
            for dst in homes:
                if dst == src:
                    continue
                out = os.path.join(dst, rel)
                acts = {a["body"]: a for a in b["acts"]}
                if os.path.exists(out):
                    with open(out) as f:
                        for a in json.load(f)["acts"]:
                            acts.setdefault(a["body"], a)
                m = dict(b)
                m["acts"] = [acts[k] for k in sorted(acts)]
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out + ".tmp", "w") as f:
                    f.write(canon(m))
                os.chmod(out + ".tmp", 0o644)
                os.rename(out + ".tmp", out)


def main():
    if sys.argv[1] == "spread":
        spread(sys.argv[2:])
        return 0
    if sys.argv[1] == "who":
        for h in who(sys.argv[2], sys.argv[3:]):
            print(h)
        return 0
    if sys.argv[1] == "seal":
        box, context, plain, out = sys.argv[2:6]
        with open(out, "wb") as f:
            f.write(seal(box, context.encode(), plain.encode()))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
