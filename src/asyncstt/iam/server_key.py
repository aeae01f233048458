"""The server key: one secret per deployment, from which the key that signs IAM tokens and the key that
encrypts storage secrets are derived (HKDF), so that neither use can be turned against the other."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from asyncstt.errors import Internal
from asyncstt.settings import Settings

KEY_FILE_NAME = "server.key"


class ServerKey:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise Internal("the server key must be at least 16 bytes")
        self._fernet = Fernet(
            base64.urlsafe_b64encode(_derive(secret, b"asyncstt storage secrets"))
        )
        self._signing_key = _derive(secret, b"asyncstt iam tokens")

    @classmethod
    def load(cls, settings: Settings) -> ServerKey:
        """The key from the settings, else from `data_dir/server.key`, generated there (mode 0600) if missing."""
        configured = settings.iam.secret_key.get_secret_value()
        if configured:
            return cls(configured.encode())
        path = settings.data_dir / KEY_FILE_NAME
        if not path.exists():
            _create_key_file(path)
        return cls(path.read_bytes().strip())

    def seal(self, plaintext: str) -> bytes:
        """Encrypt and authenticate a secret for storage."""
        return self._fernet.encrypt(plaintext.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken as exc:
            raise Internal(
                "a stored secret cannot be decrypted: the server key is not the one it was sealed with"
            ) from exc

    def sign(self, message: bytes) -> bytes:
        return hmac.new(self._signing_key, message, hashlib.sha256).digest()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process of this deployment created it first
    with os.fdopen(fd, "w") as key_file:
        key_file.write(secrets.token_urlsafe(32))
