"""Keys and policies for the pure KMS rule tests: every field set, only what a test varies named."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from strongroom.kms.errors import KmsError
from strongroom.kms.models import DualAuth, InstancePolicy, Key, KeyPolicy, KeyState, Stamp

T0 = datetime(2024, 1, 1, tzinfo=UTC)
STAMP = Stamp(T0, "IBMid-creator")
LATER = Stamp(datetime(2024, 6, 1, tzinfo=UTC), "IBMid-updater")


def make_key(
    key_id: str = "00000000-0000-4000-8000-000000000001",
    name: str = "key",
    *,
    state: KeyState = KeyState.ACTIVE,
    extractable: bool = False,
    imported: bool = False,
    created: datetime = T0,
    last_update: datetime | None = None,
    last_rotate: datetime | None = None,
    expiration: datetime | None = None,
    deleted: datetime | None = None,
    policies: Mapping[str, KeyPolicy] | None = None,
    dual_auth: bool = False,
) -> Key:
    return Key(
        id=key_id,
        instance_id="inst-1",
        account_id="0123456789abcdef0123456789abcdef",
        service="kms",
        region="us-south",
        name=name,
        description="",
        tags=(),
        extractable=extractable,
        imported=imported,
        key_ring_id="default",
        state=state,
        created=Stamp(created, "IBMid-creator"),
        last_update_at=last_update,
        last_rotate_at=last_rotate,
        expiration_date=expiration,
        version_id=key_id,
        version_created_at=created,
        last_action_at=created,
        dual_auth=DualAuth(enabled=dual_auth),
        policies=dict(policies or {}),
        deleted=Stamp(deleted, "IBMid-deleter") if deleted else None,
    )


def key_policy(kind: str, data: Mapping[str, Any], policy_id: str = "pol-old") -> KeyPolicy:
    return KeyPolicy(id=policy_id, kind=kind, data=dict(data), created=STAMP, updated=STAMP)


def instance_policy(
    kind: str, enabled: bool = True, attributes: Mapping[str, Any] | None = None
) -> InstancePolicy:
    return InstancePolicy("inst-1", kind, enabled, dict(attributes or {}), STAMP, STAMP)


@dataclass
class Ids:
    """A deterministic id maker that remembers how often it was asked."""

    prefix: str = "pol"
    made: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self) -> str:
        self.made.append(f"{self.prefix}-{next(self.counter)}")
        return self.made[-1]


def refusal(call: Callable[[], object]) -> KmsError:
    """The KmsError `call` raises (fails the test when it raises none)."""
    try:
        call()
    except KmsError as error:
        return error
    raise AssertionError("expected a KmsError")
