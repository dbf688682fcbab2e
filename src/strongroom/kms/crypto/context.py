"""What a sealed blob belongs to: the `context` bytes every CryptoBackend call takes.

A context is a canonical encoding of a label and the ids of its owner, the instance id always
first, so that
- a blob copied to another row (another key, version or instance) does not open: the context is
  the AAD of its seal;
- the backend can read the instance id back (`instance_of`) to open the instance's master key,
  which is sealed with the instance id as AAD (backend.py), without a separate argument.

Build contexts only with the functions below; never by hand.
"""

from __future__ import annotations

_LENGTH_BYTES = 4
_VERSION_LABEL = "kms key version"
_IMPORT_TOKEN_LABEL = "kms import token"  # noqa: S105 (a label, not a secret)


def canonical(*values: str) -> bytes:
    """Each value as UTF-8 behind its 4-byte big-endian length: unambiguous (no two different
    lists of strings give the same bytes) and stable across releases."""
    parts = []
    for value in values:
        data = value.encode("utf-8", "surrogatepass")  # any str, even a lone surrogate from JSON
        parts.append(len(data).to_bytes(_LENGTH_BYTES, "big") + data)
    return b"".join(parts)


def version_context(instance_id: str, key_id: str, version_id: str) -> bytes:
    """A key version's material (generate, seal, export, wrap, unwrap)."""
    return canonical(_VERSION_LABEL, instance_id, key_id, version_id)


def import_token_context(instance_id: str) -> bytes:
    """An instance's import token transport private key (seal_private, open_private); one
    token per instance (spec kms-api.md §3.7)."""
    return canonical(_IMPORT_TOKEN_LABEL, instance_id)


def instance_of(context: bytes) -> str:
    """The instance id a context names; ValueError when it was not built by this module."""
    label, rest = _first(context)
    if label not in (_VERSION_LABEL, _IMPORT_TOKEN_LABEL):
        raise ValueError("the crypto context was not built by `kms.crypto.context`")
    instance_id, _ = _first(rest)
    if not instance_id:
        raise ValueError("the crypto context names no instance")
    return instance_id


def _first(data: bytes) -> tuple[str, bytes]:
    if len(data) < _LENGTH_BYTES:
        raise ValueError("the crypto context was not built by `kms.crypto.context`")
    size = int.from_bytes(data[:_LENGTH_BYTES], "big")
    end = _LENGTH_BYTES + size
    if len(data) < end:
        raise ValueError("the crypto context was not built by `kms.crypto.context`")
    return data[_LENGTH_BYTES:end].decode("utf-8", "surrogatepass"), data[end:]
