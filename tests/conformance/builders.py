"""Domain objects for the conformance suite, every field set to something worth round-tripping."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from strongroom import ids
from strongroom.identity.models import (
    Account,
    AccountRole,
    ApiKey,
    HistoryRecord,
    LeakAction,
    Membership,
    OwnerKind,
    ServiceId,
    User,
    Versioned,
)
from strongroom.store.ports import RefreshToken, SigningKey

# Microseconds on purpose: the store must keep them.
T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
OWNER = "IBMid-OWNER00001"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def history(count: int = 2, *, start: datetime = T0) -> tuple[HistoryRecord, ...]:
    return tuple(
        HistoryRecord(
            timestamp=start + timedelta(minutes=i, microseconds=i),
            iam_id=OWNER,
            iam_id_account="a" * 32,
            action="create" if i == 0 else "update",
            params=(f"name={i}", "", "colon:and,comma"),
            message=f"step {i} — ünïcode",
        )
        for i in range(count)
    )


def versioned(
    *,
    created_at: datetime = T0,
    modified_at: datetime | None = None,
    created_by: str = OWNER,
    records: tuple[HistoryRecord, ...] | None = None,
) -> Versioned:
    return Versioned(
        created_at=created_at,
        modified_at=modified_at or created_at,
        created_by=created_by,
        entity_tag=ids.new_entity_tag(1),
        history=history() if records is None else records,
    )


def account(*, name: str = "acme", created_at: datetime = T0, state: str = "ACTIVE") -> Account:
    return Account(ids.new_account_id(), name, OWNER, created_at, state)


def user(*, email: str = "ada@example.com", created_at: datetime = T0) -> User:
    return User(ids.new_user_iam_id(), email, "Ada", "Lovelace", created_at)


def membership(account_id: str, iam_id: str, role: AccountRole = AccountRole.MEMBER) -> Membership:
    return Membership(account_id, iam_id, role, at(1), "PENDING")


def service_id(
    account_id: str,
    *,
    name: str = "builder",
    description: str = "a service ID",
    created_at: datetime = T0,
    modified_at: datetime | None = None,
    created_by: str = OWNER,
    crns: tuple[str, ...] = ("crn:v1:bluemix:public:kms:us-south:a/x:inst::",),
    locked: bool = False,
) -> ServiceId:
    sid = ids.new_service_id()
    return ServiceId(
        id=sid,
        iam_id=ids.service_id_iam_id(sid),
        account_id=account_id,
        name=name,
        description=description,
        unique_instance_crns=crns,
        locked=locked,
        meta=versioned(created_at=created_at, modified_at=modified_at, created_by=created_by),
    )


def api_key(
    account_id: str,
    iam_id: str,
    *,
    owner_kind: OwnerKind = OwnerKind.SERVICE_ID,
    name: str = "key",
    description: str = "an API key",
    created_at: datetime = T0,
    modified_at: datetime | None = None,
    created_by: str = OWNER,
    sealed_value: bytes | None = bytes(range(256)),
    expires_at: datetime | None = None,
    digest: str | None = None,
) -> ApiKey:
    return ApiKey(
        id=ids.new_api_key_id(),
        account_id=account_id,
        iam_id=iam_id,
        owner_kind=owner_kind,
        name=name,
        description=description,
        value_digest=digest or secrets.token_hex(32),
        sealed_value=sealed_value,
        locked=True,
        disabled=False,
        leaked=True,
        support_sessions=True,
        action_when_leaked=LeakAction.DELETE,
        expires_at=expires_at,
        meta=versioned(created_at=created_at, modified_at=modified_at, created_by=created_by),
    )


def signing_key(
    *,
    created_at: datetime = T0,
    retired_at: datetime | None = None,
    publish_until: datetime | None = None,
) -> SigningKey:
    kid = ids.new_uuid()
    return SigningKey(
        kid=kid,
        created_at=created_at,
        sealed_private_key=b"\x00\x01\xff" + secrets.token_bytes(61),
        public_jwk={"kty": "RSA", "kid": kid, "alg": "RS256", "n": "sXch", "e": "AQAB"},
        retired_at=retired_at,
        publish_until=publish_until,
    )


def refresh_token(
    family_id: str,
    *,
    account_id: str = "b" * 32,
    issued_at: datetime = T0,
    used_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> RefreshToken:
    return RefreshToken(
        id=ids.new_uuid(),
        digest=secrets.token_hex(32),
        family_id=family_id,
        iam_id="iam-ServiceId-x",
        account_id=account_id,
        apikey_id=ids.new_api_key_id(),
        client_id="bx",
        scope="ibm openid",
        issued_at=issued_at,
        expires_at=issued_at + timedelta(hours=72),
        used_at=used_at,
        revoked_at=revoked_at,
    )
