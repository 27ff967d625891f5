"""One key per hall, derived from a single service secret, so a leaked machine key exposes only its own hall."""

from __future__ import annotations

import hashlib
import hmac
import os

SECRET_ENV = "HUJI_QUEUE_SECRET"
DEV_SECRET = "huji-dev-queue-secret"  # development and demo only: production sets HUJI_QUEUE_SECRET
KEY_LENGTH = 32


def default_secret() -> str:
    """The service secret from HUJI_QUEUE_SECRET, or the public development secret when it is unset."""
    return os.environ.get(SECRET_ENV) or DEV_SECRET


def hall_key(secret: str, hall_id: str) -> str:
    """The key a hall's ticket machine presents: HMAC-SHA256(secret, hall_id), first 32 hex characters."""
    return hmac.new(secret.encode("utf-8"), hall_id.encode("utf-8"), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def check_key(secret: str, hall_id: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(hall_key(secret, hall_id).encode("ascii"), presented.strip().encode("utf-8"))
