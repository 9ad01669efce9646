"""Signed links to a shopper's documents (an invoice, a return label).

The action server signs the link once it has verified the order; the gateway serves the page only
for a valid signature that has not expired. So a link in the chat opens without a login, and
nobody can reach another shopper's invoice by changing the number. Both processes read the same
key: ``AISLE_LINK_SECRET``, or (embedded, one machine) a random one written once to
``var/link-secret``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

LINK_DAYS = 30  # how long a link in the chat keeps working
KEY_FILE = "link-secret"


@lru_cache(maxsize=8)
def link_key(secret: str, var_dir: Path) -> bytes:
    """``secret`` when set, else the machine's key file (created atomically on first use, so two
    processes starting together agree on one key); read once per process."""
    if secret:
        return secret.encode()
    path = var_dir / KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f".{KEY_FILE}.{os.getpid()}"
        draft.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process won the race: its key is used
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8").strip().encode()


def _signature(key: bytes, path: str, expires: int) -> str:
    return hmac.new(key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def sign(path: str, key: bytes, now: float | None = None, days: float = LINK_DAYS) -> str:
    """``/invoices/INV-20427`` → ``/invoices/INV-20427?expires=…&sig=…``."""
    expires = int((time.time() if now is None else now) + days * 86400)
    return f"{path}?{urlencode({'expires': expires, 'sig': _signature(key, path, expires)})}"


def is_signed(path: str, expires: str | None, sig: str | None, key: bytes,
              now: float | None = None) -> bool:
    """Whether ``sig`` signs ``path`` until ``expires``, and that moment has not passed."""
    try:
        until = int(expires or "")
    except ValueError:
        return False
    if until < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(key, path, until), sig or "")
