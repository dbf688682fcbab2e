"""How key rings and aliases look on the wire (spec kms-api.md §3.9, Appendix A)."""

from __future__ import annotations

from typing import Any

from strongroom.api.schemas.kms import rfc3339
from strongroom.kms.models import Alias, KeyRing


def ring_out(ring: KeyRing) -> dict[str, Any]:
    """`default` shows its id alone: it was never created by anyone (Appendix A)."""
    out: dict[str, Any] = {"id": ring.id}
    if ring.created is not None:
        out["creationDate"] = rfc3339(ring.created.at)
        out["createdBy"] = ring.created.by
    return out


def alias_out(alias: Alias) -> dict[str, Any]:
    return {
        "keyId": alias.key_id,
        "alias": alias.alias,
        "createdBy": alias.created.by,
        "creationDate": rfc3339(alias.created.at),
    }
