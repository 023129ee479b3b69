#!/usr/bin/env python3
"""sign.py: signs terminal requests as api.md ("Terminals") says, for tests and tools.

    sign.py [--terminal-id ID] [--timestamp T] [--nonce N] SECRET_HEX METHOD PATH [BODY_FILE]
    sign.py --self-test

prints the request's headers as `Name: value` lines, so that

    sign.py --terminal-id 12 "$SECRET" POST /v1/scans body.json |
        curl -H @- -H 'Content-Type: application/json' --data-binary @body.json http://127.0.0.1:8080/v1/scans

sends a signed request. BODY_FILE `-` reads the body from standard input; no
BODY_FILE signs an empty body. X-Terminal-Id is printed when --terminal-id is
given. --self-test checks SM3 and the signature against known answers (the
ones test/unit/test_sign.c holds) with every SM3 this file can use, and exits
non-zero if one differs.

From Python (put scripts/ on sys.path):

    import sign
    headers = sign.sign(secret_hex, "POST", "/v1/scans", body, terminal_id=12)

sign() checks only the secret: a test may pass a malformed timestamp or nonce
on purpose, and it is signed as given. The signature is the lowercase hex of
HMAC-SM3, keyed with the 32 bytes SECRET_HEX encodes, of
METHOD "\\n" PATH "\\n" timestamp "\\n" nonce "\\n" hex(SM3(body)).

SM3 comes from hashlib when OpenSSL provides it, else from the pure-Python
implementation below (slow: for tests and tools, not load), which is checked
against the GB/T 32905 "abc" vector when this file is imported. Setting
SUISHEN_SM3_PURE=1 forces the pure one. Python 3 standard library only.
"""

import argparse
import hashlib
import os
import secrets
import struct
import sys
import time

WINDOW = 300  # seconds either way that the server accepts (SS_SIGN_WINDOW)
BLOCK = 64  # SM3's block size in bytes, for HMAC


# SM3 (GB/T 32905-2016), pure Python.

_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_MASK = 0xFFFFFFFF


def _rotl(x, n):
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _MASK


def _p0(x):
    return x ^ _rotl(x, 9) ^ _rotl(x, 17)


def _p1(x):
    return x ^ _rotl(x, 15) ^ _rotl(x, 23)


_T = [_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64)]


def _compress(v, block):
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        w.append(_p1(w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _T[j]) & _MASK, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff = a ^ b ^ c
            gg = e ^ f ^ g
        else:
            ff = (a & b) | (a & c) | (b & c)
            gg = (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _MASK
        tt2 = (gg + h + ss1 + w[j]) & _MASK
        a, b, c, d = tt1, a, _rotl(b, 9), c
        e, f, g, h = _p0(tt2), e, _rotl(f, 19), g
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


def sm3_pure(data):
    """SM3 digest (32 bytes) of data, computed here."""
    data = bytes(data)
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % BLOCK) + struct.pack(">Q", 8 * len(data))
    v = _IV
    for i in range(0, len(padded), BLOCK):
        v = _compress(v, padded[i : i + BLOCK])
    return struct.pack(">8I", *v)


def _sm3_hashlib(data):
    return hashlib.new("sm3", bytes(data)).digest()


# GB/T 32905-2016 appendix A: "abc", and "abcd" 16 times (two blocks once padded).
VECTORS = (
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
)


def _hashlib_has_sm3():
    try:
        return _sm3_hashlib(b"abc").hex() == VECTORS[0][1]
    except ValueError:
        return False


if os.environ.get("SUISHEN_SM3_PURE") != "1" and _hashlib_has_sm3():
    sm3 = _sm3_hashlib
else:
    if sm3_pure(VECTORS[0][0]).hex() != VECTORS[0][1]:
        raise ImportError("sign.py: the pure-Python SM3 fails the GB/T 32905 'abc' vector")
    sm3 = sm3_pure


def hmac_sm3(key, msg, digest=None):
    """HMAC-SM3 (RFC 2104, 64-byte blocks) of msg under key, with SM3 digest (default: the one chosen above)."""
    digest = digest or sm3
    if len(key) > BLOCK:
        key = digest(key)
    key = key.ljust(BLOCK, b"\x00")
    inner = digest(bytes(k ^ 0x36 for k in key) + msg)
    return digest(bytes(k ^ 0x5C for k in key) + inner)


def signature(key, method, path, timestamp, nonce, body, digest=None):
    """The lowercase hex signature of a request, key being the 32 raw bytes."""
    digest = digest or sm3
    message = "\n".join([method, path, str(timestamp), nonce, digest(body).hex()]).encode()
    return hmac_sm3(key, message, digest).hex()


def new_nonce():
    """32 random lowercase hex characters."""
    return secrets.token_hex(16)


def sign(secret_hex, method, path, body_bytes=b"", timestamp=None, nonce=None, terminal_id=None):
    """The headers of a signed request, as a dict: X-Timestamp (default: now), X-Nonce (default: 32 random hex
    characters), X-Signature, and X-Terminal-Id when terminal_id is given. body_bytes may be bytes, str (sent as
    UTF-8) or None (empty). A timestamp given as a string is signed as written."""
    key = bytes.fromhex(secret_hex)
    if len(key) != 32 or len(secret_hex) != 64:
        raise ValueError("the secret must be 64 hex characters")
    if body_bytes is None:
        body_bytes = b""
    elif isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = new_nonce() if nonce is None else nonce
    headers = {}
    if terminal_id is not None:
        headers["X-Terminal-Id"] = str(terminal_id)
    headers["X-Timestamp"] = timestamp
    headers["X-Nonce"] = nonce
    headers["X-Signature"] = signature(key, method, path, timestamp, nonce, bytes(body_bytes))
    return headers


# The known answers of test/unit/test_sign.c (computed with hashlib and hmac, checked with `openssl dgst`).
KNOWN_SECRET = bytes(range(32)).hex()
KNOWN = (
    ("POST", "/v1/scans", "1795680000", "0123456789abcdef", b'{"code":"ABC"}',
     "da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c1"),
    ("GET", "/v1/me", "1795680000", "nonce-0000000001", b"",
     "e818e7baca084021dc41467f9ec0896e9b8f21a0496e0900385e39fe2fd842cb"),
)


def self_test():
    """Checks each available SM3 and the signatures against the known answers; returns the failures as text."""
    digests = [("pure", sm3_pure)]
    if _hashlib_has_sm3():
        digests.append(("hashlib", _sm3_hashlib))
    failures = []
    for name, digest in digests:
        for data, want in VECTORS:
            if digest(data).hex() != want:
                failures.append(f"{name} sm3 of {len(data)} bytes")
        for method, path, ts, nonce, body, want in KNOWN:
            got = signature(bytes.fromhex(KNOWN_SECRET), method, path, ts, nonce, body, digest)
            if got != want:
                failures.append(f"{name} signature of {method} {path}: {got}")
    for method, path, ts, nonce, body, want in KNOWN:
        if sign(KNOWN_SECRET, method, path, body, timestamp=ts, nonce=nonce)["X-Signature"] != want:
            failures.append(f"sign() of {method} {path}")
    if _hashlib_has_sm3():
        import hmac as std_hmac

        for key in (os.urandom(32), os.urandom(80)):  # a key longer than a block is hashed first
            msg = os.urandom(300)
            want = std_hmac.new(key, msg, "sm3").digest()
            for name, digest in digests:
                if hmac_sm3(key, msg, digest) != want:
                    failures.append(f"{name} hmac_sm3 with a {len(key)}-byte key against the hmac module")
    return failures


def main(argv):
    p = argparse.ArgumentParser(description="Print the signature headers of a terminal request.")
    p.add_argument("--self-test", action="store_true", help="check against known answers and exit")
    p.add_argument("--terminal-id", help="also print X-Terminal-Id")
    p.add_argument("--timestamp", help="unix seconds to sign (default: now)")
    p.add_argument("--nonce", help="nonce to sign (default: 32 random hex characters)")
    p.add_argument("secret", nargs="?", metavar="SECRET_HEX")
    p.add_argument("method", nargs="?", metavar="METHOD")
    p.add_argument("path", nargs="?", metavar="PATH")
    p.add_argument("body_file", nargs="?", metavar="BODY_FILE", help="file holding the body ('-': standard input)")
    args = p.parse_args(argv)
    if args.self_test:
        failures = self_test()
        for f in failures:
            print(f"sign.py: self-test failed: {f}", file=sys.stderr)
        if not failures:
            print(f"sign.py: self-test passed (sm3 from {'hashlib' if sm3 is _sm3_hashlib else 'pure python'})")
        return 1 if failures else 0
    if not (args.secret and args.method and args.path):
        p.error("SECRET_HEX, METHOD and PATH are required")
    if args.body_file is None:
        body = b""
    elif args.body_file == "-":
        body = sys.stdin.buffer.read()
    else:
        with open(args.body_file, "rb") as f:
            body = f.read()
    try:
        headers = sign(args.secret, args.method, args.path, body, args.timestamp, args.nonce, args.terminal_id)
    except ValueError:
        p.error("SECRET_HEX must be 64 hex characters")
    for name, value in headers.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
