"""How keys, versions and wrap results look on the wire (spec kms-api.md §2.1, Appendix A)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from strongroom.kms import lifecycle
from strongroom.kms.keys import KeyView
from strongroom.kms.models import Key, KeyState, KeyVersion
from strongroom.kms.wrapping import Unwrap, Wrap

KEY_TYPE = "application/vnd.ibm.kms.key+json"
KEY_ACTION_TYPE = "application/vnd.ibm.kms.key_action+json"
VERSION_TYPE = "application/vnd.ibm.kms.key.version+json"


def rfc3339(when: datetime) -> str:
    """Strict RFC 3339 in UTC with a `Z` (the go client parses these as time.Time)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def key_out(view: KeyView, now: datetime, *, minimal: bool = False) -> dict[str, Any]:
    key = view.key
    if minimal:  # `Prefer: return=minimal`: the identifying metadata only
        return {"id": key.id, "crn": key.crn, "name": key.name, "type": KEY_TYPE}
    out: dict[str, Any] = {
        "type": KEY_TYPE,
        "id": key.id,
        "name": key.name,
        "description": key.description,
        "state": int(key.state),
        "crn": key.crn,
        "extractable": key.extractable,
        "imported": key.imported,
        "keyRingID": key.key_ring_id,
        "creationDate": rfc3339(key.created.at),
        "createdBy": key.created.by,
        "algorithmType": "AES",
        "algorithmMetadata": {"bitLength": "256", "mode": "Deprecated"},
        "algorithmBitSize": 256,
        "algorithmMode": "Deprecated",
        "keyVersion": {"id": key.version_id, "creationDate": rfc3339(key.version_created_at)},
        "dualAuthDelete": _dual_auth(key),
        "deleted": key.state is KeyState.DESTROYED,
    }
    if view.aliases:
        out["aliases"] = list(view.aliases)
    if key.tags:
        out["tags"] = list(key.tags)
    if key.expiration_date is not None:
        out["expirationDate"] = rfc3339(key.expiration_date)
    if key.last_update_at is not None:
        out["lastUpdateDate"] = rfc3339(key.last_update_at)
    if key.last_rotate_at is not None:
        out["lastRotateDate"] = rfc3339(key.last_rotate_at)
    rotation = key.policies.get("rotation")
    if rotation is not None:
        out["rotation"] = dict(rotation.data)
    if key.nonactive_state_reason is not None and key.state is not KeyState.ACTIVE:
        out["nonactiveStateReason"] = key.nonactive_state_reason
    if key.deleted is not None:
        out["deletionDate"] = rfc3339(key.deleted.at)
        out["deletedBy"] = key.deleted.by
        windows = lifecycle.deletion_windows(key)
        out.update({name: rfc3339(when) for name, when in windows.items()})
        at = key.deleted.at
        out["restoreAllowed"] = at + lifecycle.RESTORE_AFTER <= now <= at + lifecycle.RESTORE_WITHIN
        out["purgeAllowed"] = now >= at + lifecycle.PURGE_AFTER
    if view.payload is not None:
        out["payload"] = b64(view.payload)
    return out


def _dual_auth(key: Key) -> dict[str, Any]:
    auth = key.dual_auth
    out: dict[str, Any] = {"enabled": auth.enabled}
    if auth.enabled:
        out["keySetForDeletion"] = auth.set_for_deletion is not None
        if auth.expires_at is not None:
            out["authExpiration"] = rfc3339(auth.expires_at)
    return out


def version_out(version: KeyVersion) -> dict[str, Any]:
    return {"id": version.id, "creationDate": rfc3339(version.created_at)}


def wrap_out(result: Wrap) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ciphertext": result.ciphertext,
        "keyVersion": {"id": result.key_version_id},
    }
    if result.plaintext is not None:
        out["plaintext"] = b64(result.plaintext)
    return out


def unwrap_out(result: Unwrap) -> dict[str, Any]:
    out: dict[str, Any] = {"keyVersion": {"id": result.key_version_id}}
    if result.plaintext is not None:
        out["plaintext"] = b64(result.plaintext)
    if result.rewrapped is not None:
        out["ciphertext"] = result.rewrapped
        out["rewrappedKeyVersion"] = {"id": result.rewrapped_version_id}
    return out
