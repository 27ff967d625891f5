"""Personal data at rest: names, phones and ID numbers are stored Fernet-encrypted (AES-128-CBC + HMAC-SHA256, from
`cryptography`), and the person is found by a keyed hash of the ID number, never by the number itself.

Both keys are derived with HKDF from one configured secret (HUJI_DATA_KEY, else var/data-key), so the secret may be
any string and the encryption key is never the hashing key. Key rotation: the new secret in HUJI_DATA_KEY, the
previous ones in HUJI_DATA_KEY_OLD (comma-separated); tokens of every listed key decrypt, new ones use the new key,
and `./huji rekey` (bot/booking/rekey.py) re-encrypts what is stored so the old secrets can be dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["InvalidToken", "Vault"]


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"huji-booking", info=purpose).derive(secret.encode())


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"encryption")))


class Vault:
    def __init__(self, secret: str, old_secrets: Sequence[str] = ()):
        if not secret or not all(old_secrets):
            raise ValueError("the data key is empty")
        self._fernet = MultiFernet([_fernet(secret), *(_fernet(old) for old in old_secrets)])
        self._hash_key = _derive(secret, b"person-key")
        self.old = [Vault(old) for old in old_secrets]  # their keyed hashes, to find what was stored under them

    @classmethod
    def configured(cls) -> Vault:
        from bot.settings import data_key, old_data_keys

        return cls(data_key(), old_data_keys())

    def rotate(self, token: str | None) -> str | None:
        """The same clear text encrypted with the current key (InvalidToken when no listed key made it)."""
        return None if token is None else self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def encrypt(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str | None) -> str:
        """The clear text; "" for a purged value. InvalidToken when the token was made with another key."""
        return "" if token is None else self._fernet.decrypt(token.encode("ascii")).decode()

    def digest(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def person_key(self, id_number: str) -> str:
        """HMAC-SHA256 of the normalised (stdnum-compact, upper-case X) ID number: the one-active-booking lookup."""
        return self.digest("id:" + "".join(id_number.split()).upper())
