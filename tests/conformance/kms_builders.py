"""Key management objects for the conformance suite, every field set to something worth
round-tripping (spec kms-api.md §2-§3)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from strongroom import ids
from strongroom.kms.models import (
    Alias,
    DualAuth,
    ImportToken,
    Key,
    KeyPolicy,
    KeyState,
    KeyVersion,
    KmsInstance,
    Registration,
    Stamp,
)
from tests.conformance import builders as b

MANAGER = "IBMid-MANAGER0001"
# Sealed blobs are arbitrary bytes: NULs and high bytes must come back intact.
AWKWARD_BYTES = b"\x00\xff\x00sealed\x80\x00"


def stamp(seconds: float, by: str = b.OWNER) -> Stamp:
    return Stamp(b.at(seconds), by)


def instance(*, account_id: str = "a" * 32, service: str = "kms") -> KmsInstance:
    return KmsInstance(
        instance_id=ids.new_uuid(),
        account_id=account_id,
        service=service,
        region="us-south",
        master_key=AWKWARD_BYTES + secrets.token_bytes(32),
        created_at=b.at(0),
    )


def key(inst: KmsInstance, *, t: float = 1, **changes: Any) -> Key:
    """A plain active root key made at `t` seconds; `changes` replace fields."""
    made = Key(
        id=ids.new_uuid(),
        instance_id=inst.instance_id,
        account_id=inst.account_id,
        service=inst.service,
        region=inst.region,
        name="payroll-root — ünïcode",
        description="",
        tags=(),
        extractable=False,
        imported=False,
        key_ring_id="default",
        state=KeyState.ACTIVE,
        created=stamp(t),
        last_update_at=None,
        last_rotate_at=None,
        expiration_date=None,
        version_id=ids.new_uuid(),
        version_created_at=b.at(t),
        last_action_at=b.at(t),
    )
    return replace(made, **changes)


def full_key(inst: KmsInstance) -> Key:
    """Every optional field set, so a lost column shows."""
    rotation = KeyPolicy(
        ids.new_uuid(), "rotation", {"enabled": True, "interval_month": 3}, stamp(2), stamp(3)
    )
    dual = KeyPolicy(ids.new_uuid(), "dualAuthDelete", {"enabled": True}, stamp(2), stamp(2))
    return key(
        inst,
        description="a description",
        tags=("env:prod", "team-a"),
        extractable=True,
        imported=True,
        imported_with_token=True,
        key_ring_id="ring-a",
        state=KeyState.DESTROYED,
        last_update_at=b.at(4),
        last_rotate_at=b.at(5),
        expiration_date=b.at(86400 * 365),
        last_action_at=b.at(6),
        dual_auth=DualAuth(True, stamp(7, MANAGER), b.at(7 + 7 * 86400)),
        policies={"rotation": rotation, "dualAuthDelete": dual},
        deleted=stamp(8, MANAGER),
        restored=stamp(9),
        last_sync_at=b.at(10),
        nonactive_state_reason=1,
    )


def version(k: Key, seq: int) -> KeyVersion:
    return KeyVersion(ids.new_uuid(), k.id, seq, b.at(seq), AWKWARD_BYTES + seq.to_bytes(4, "big"))


def alias(k: Key, name: str, *, t: float = 1) -> Alias:
    return Alias(k.instance_id, name, k.id, stamp(t))


def token(inst: KmsInstance, *, retrievals: int = 2, t: float = 1) -> ImportToken:
    return ImportToken(
        instance_id=inst.instance_id,
        created_at=b.at(t),
        expires_at=b.at(t + 600),
        max_retrievals=retrievals,
        remaining_retrievals=retrievals,
        public_key_pem=b"-----BEGIN PUBLIC KEY-----\nMIIC\n-----END PUBLIC KEY-----\n",
        private_key=AWKWARD_BYTES + secrets.token_bytes(64),
        nonce=b"\x00" + secrets.token_bytes(11),
        created_by=b.OWNER,
    )


def registration(k: Key, crn: str, *, t: float = 1) -> Registration:
    return Registration(
        key_id=k.id,
        instance_id=k.instance_id,
        resource_crn=crn,
        description="bucket — ünïcode",
        prevent_key_deletion=True,
        metadata='{"service":"cos"}',
        key_version_id=k.version_id,
        key_version_created_at=k.version_created_at,
        created=stamp(t),
        updated=stamp(t + 1, MANAGER),
    )
