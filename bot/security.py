"""Secrets: conversation tokens, agent passwords (scrypt), agent sessions, input checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are random (256 bits), so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    if not token:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def bad_characters(text: str) -> bool:
    """True if ``text`` holds control characters (NUL, escape …), surrogates or U+FFFD.

    Binary data decoded as text shows up as exactly these.
    """
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co") or char == "\ufffd":
            return True
    return False


def safe_url(url: object) -> str | None:
    """Keep http(s) URLs and site-relative paths; drop ``javascript:`` and the like."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if url.startswith("/") and not url.startswith("//"):
        return url
    lower = url.lower()
    if lower.startswith(("https://", "http://")):
        return url
    return None
