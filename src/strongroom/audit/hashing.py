"""Sensitive fields of an audit event, stored as salted HMAC-SHA-256 (reliability.md A3 c; T6).

As Vault's audit devices do: a value that could let a reader use or recognise a secret is never
stored; its `hmac-sha256:<hex>` under a per-deployment salt is. An operator holding a value (a
leaked API key, say) asks `POST /v1/audit/hash` for its hash and searches the trail for it;
without the salt, a reader of the trail cannot test guesses offline.

Which fields (docs/user-guide.md, "Audit trail"): any member, at any depth of the event, whose
name is in `SENSITIVE` — the credentials a caller presents (`apikey`, `refresh_token`,
`access_token`, `cr_token`, `token`, `password`, `client_secret`) and key material or wrapped data
(`payload`, `plaintext`, `ciphertext`, `encryptedNonce`, `iv`, `aad`). Identifiers are not
secrets and are stored as they are: `initiator.id` (an IAM id), API key and key ids, CRNs, the
source address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

PREFIX = "hmac-sha256:"
SALT_BYTES = 32
SENSITIVE = frozenset(
    {
        "apikey",
        "refresh_token",
        "access_token",
        "cr_token",
        "token",
        "password",
        "client_secret",
        "secret",
        "payload",
        "plaintext",
        "ciphertext",
        "encryptednonce",
        "iv",
        "aad",
    }
)


class AuditHasher:
    """HMAC-SHA-256 under the deployment's audit salt (audit/salt.py keeps it sealed)."""

    def __init__(self, salt: bytes) -> None:
        if len(salt) < 16:
            raise ValueError("the audit salt is too short")
        self._salt = salt

    def hash(self, value: str) -> str:
        return PREFIX + hmac.new(self._salt, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def redact(self, event: dict[str, Any]) -> dict[str, Any]:
        """A copy of `event` with every sensitive member's value hashed (strings as they are,
        other values as their canonical JSON text)."""
        return {k: self._value(k, v) for k, v in event.items()}

    def _value(self, name: str, value: Any) -> Any:
        if name.lower() in SENSITIVE and value is not None:
            return self.hash(value if isinstance(value, str) else _text(value))
        if isinstance(value, dict):
            return self.redact(value)
        if isinstance(value, list):
            return [self._value("", item) for item in value]
        return value


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
