"""How an import token looks on the wire (spec kms-api.md §3.7, Appendix A "Import token"):
not an envelope; counts are integers, never floats (go decodes them as `int`)."""

from __future__ import annotations

from typing import Any

from strongroom.api.schemas.kms import b64, rfc3339
from strongroom.kms.crypto.transport import public_payload
from strongroom.kms.models import ImportToken


def import_token_out(token: ImportToken, *, retrieved: bool = False) -> dict[str, Any]:
    """The token's metadata; a retrieval (`GET`) adds the public key (`payload`, base64 of the
    PEM) and the `nonce` (base64)."""
    out: dict[str, Any] = {
        "creationDate": rfc3339(token.created_at),
        "expirationDate": rfc3339(token.expires_at),
        "maxAllowedRetrievals": int(token.max_retrievals),
        "remainingRetrievals": int(token.remaining_retrievals),
    }
    if retrieved:
        out["payload"] = public_payload(token.public_key_pem)
        out["nonce"] = b64(token.nonce)
    return out
