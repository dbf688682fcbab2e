"""Keys, key versions, rings, aliases, policies, import tokens and registrations as the key
management service keeps them (spec kms-api.md §2-§3). Frozen; changes use `dataclasses.replace`.

Key material never appears here in clear: a version holds its material sealed under the
instance's master key by the CryptoBackend (kms/crypto), and the master key is itself sealed by
the server root key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

# When and by whom (an iam_id) something happened: the same record the Resource Controller
# keeps for instances, so one pair of row helpers stores both (store/sql/instance_repos.py).
from strongroom.resources.instance_models import Stamp


class KeyState(IntEnum):
    """NIST SP 800-57 numbering (spec §2.2). There is no 4 for keys; purged keys are gone."""

    PRE_ACTIVATION = 0
    ACTIVE = 1
    SUSPENDED = 2  # disabled
    DEACTIVATED = 3  # expired
    DESTROYED = 5  # deleted, restorable for 30 days, purgeable after 4 hours


@dataclass(frozen=True, slots=True)
class KmsInstance:
    """The key-management side of a `kms` / `hs-crypto` service instance: its master key, sealed
    by the server root key through the CryptoBackend. Made on the instance's first key call."""

    instance_id: str
    account_id: str
    service: str  # `kms` or `hs-crypto`: the CRN service segment and the action prefix
    region: str
    master_key: bytes  # sealed; only the backend can open it
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DualAuth:
    """A key's dual-authorization state (spec §3.3): who scheduled the deletion, and until when
    that authorization is valid (7 days)."""

    enabled: bool = False
    set_for_deletion: Stamp | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """One key policy (spec §3.6): `rotation` {enabled, interval_month} or `dualAuthDelete`
    {enabled}, with its own id and stamps."""

    id: str
    kind: str  # `rotation` | `dualAuthDelete`
    data: Mapping[str, Any]
    created: Stamp
    updated: Stamp


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    instance_id: str
    account_id: str
    service: str  # `kms` | `hs-crypto`
    region: str
    name: str
    description: str
    tags: tuple[str, ...]
    extractable: bool  # False: a root key
    imported: bool
    key_ring_id: str
    state: KeyState
    created: Stamp
    last_update_at: datetime | None  # None until the first rotate or update (spec §2.1)
    last_rotate_at: datetime | None
    expiration_date: datetime | None
    version_id: str  # the newest version: wrap uses it
    version_created_at: datetime
    # The last lifecycle action (disable, delete): enable and restore wait 30 s after it.
    last_action_at: datetime
    dual_auth: DualAuth = DualAuth()
    policies: Mapping[str, KeyPolicy] = field(default_factory=dict)  # by kind
    deleted: Stamp | None = None
    restored: Stamp | None = None
    last_sync_at: datetime | None = None
    nonactive_state_reason: int | None = None
    # Secure import: the key was imported with an import token (rotate must use one too).
    imported_with_token: bool = False

    @property
    def is_root(self) -> bool:
        return not self.extractable

    @property
    def crn(self) -> str:
        """`crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance>:key:<id>`."""
        return (
            f"crn:v1:bluemix:public:{self.service}:{self.region}:a/{self.account_id}"
            f":{self.instance_id}:key:{self.id}"
        )


@dataclass(frozen=True, slots=True)
class KeyVersion:
    """One version of a key's material (a rotation makes a new one; old ones only unwrap)."""

    id: str
    key_id: str
    seq: int  # 1 for the first version; the newest has the highest
    created_at: datetime
    material: bytes  # sealed under the instance master key; erased on purge


@dataclass(frozen=True, slots=True)
class KeyRing:
    instance_id: str
    id: str
    created: Stamp | None  # None for `default`, which always exists


@dataclass(frozen=True, slots=True)
class Alias:
    instance_id: str
    alias: str
    key_id: str
    created: Stamp


@dataclass(frozen=True, slots=True)
class InstancePolicy:
    """One instance policy (spec §3.6): `dualAuthDelete`, `allowedNetwork`, `allowedIP`,
    `keyCreateImportAccess`, `metrics` or `rotation`."""

    instance_id: str
    kind: str
    enabled: bool
    attributes: Mapping[str, Any]
    created: Stamp
    updated: Stamp


@dataclass(frozen=True, slots=True)
class ImportToken:
    """An instance's import token (spec §3.7): an RSA-4096 transport key (private half sealed),
    a nonce, an expiry and a retrieval budget. One per instance; a new one replaces it."""

    instance_id: str
    created_at: datetime
    expires_at: datetime
    max_retrievals: int
    remaining_retrievals: int
    public_key_pem: bytes
    private_key: bytes  # sealed under the instance master key
    nonce: bytes
    created_by: str


@dataclass(frozen=True, slots=True)
class Registration:
    """A cloud resource protected by a root key (spec §3.8)."""

    key_id: str
    instance_id: str
    resource_crn: str
    description: str
    prevent_key_deletion: bool
    metadata: str  # `registrationMetadata`: visible to services only
    key_version_id: str
    key_version_created_at: datetime
    created: Stamp
    updated: Stamp


__all__ = [
    "Alias",
    "DualAuth",
    "ImportToken",
    "InstancePolicy",
    "Key",
    "KeyPolicy",
    "KeyRing",
    "KeyState",
    "KeyVersion",
    "KmsInstance",
    "Registration",
    "Stamp",
]
