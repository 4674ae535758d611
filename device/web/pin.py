"""The screen PIN: salted scrypt hashes (standard library only), checked in constant time.

``python -m device.web.pin`` reads a PIN on standard input and prints its hash: ``scripts/install.sh
--screen-pin`` stores that hash (never the PIN) in the env file as ``LARDER_SCREEN_PIN_HASH``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sys

SCHEME = "scrypt"
#: scrypt cost: 16 MiB and ~0.1 s on a Pi 4 per check, which a lockout after 5 misses makes ample
N, R, P = 2**14, 8, 1
MIN_DIGITS, MAX_DIGITS = 4, 12


def check_pin(pin: str) -> str | None:
    """Why ``pin`` cannot be a screen PIN, or ``None`` when it can."""
    if not (pin.isascii() and pin.isdigit()):
        return "a screen PIN is digits only"
    if not MIN_DIGITS <= len(pin) <= MAX_DIGITS:
        return f"a screen PIN has {MIN_DIGITS} to {MAX_DIGITS} digits"
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$16384$8$1$<salt>$<hash>`` (base64), a fresh random salt unless one is given."""
    problem = check_pin(pin)
    if problem:
        raise ValueError(problem)
    salt = salt if salt is not None else secrets.token_bytes(16)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(_derive(pin, salt, N, R, P))])


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """The parts of a stored hash, or ``None`` when it is not one this module wrote."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or len(salt) < 8 or len(digest) != 32:
        return None
    return n, r, p, salt, digest


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches the stored hash (constant-time compare; a malformed hash matches nothing)."""
    parsed = parse_hash(stored)
    if parsed is None or check_pin(pin):
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_derive(pin, salt, n, r, p), digest)


def main() -> int:
    pin = sys.stdin.readline().strip()
    problem = check_pin(pin)
    if problem:
        print(f"--screen-pin: {problem}", file=sys.stderr)
        return 2
    print(hash_pin(pin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
