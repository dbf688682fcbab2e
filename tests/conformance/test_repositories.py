"""Every repository method of the storage port: what goes in comes back, whole and unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from strongroom import ids
from strongroom.identity.models import AccountRole, HistoryRecord, OwnerKind
from tests.conformance import builders as b
from tests.conformance.conftest import Store

PLUS_0530 = timezone(timedelta(hours=5, minutes=30))
MINUS_0800 = timezone(timedelta(hours=-8))


def assert_utc(value: datetime | None) -> None:
    assert value is not None
    assert value.tzinfo is not None, f"{value!r} came back naive"
    assert value.utcoffset() == timedelta(0), f"{value!r} did not come back in UTC"


# -- accounts -------------------------------------------------------------------------------------


def test_accounts_round_trip_and_count(store: Store) -> None:
    first, second = b.account(name="first"), b.account(name="Zweite ünïcode", state="SUSPENDED")
    with store.uow() as uow:
        assert uow.accounts.count() == 0
    with store.uow(write=True) as uow:
        uow.accounts.add(first)
        uow.accounts.add(second)
    with store.uow() as uow:
        assert uow.accounts.get(first.id) == first
        assert uow.accounts.get(second.id) == second
        assert uow.accounts.get(ids.new_account_id()) is None
        assert uow.accounts.count() == 2


def test_duplicate_account_id_is_refused(store: Store) -> None:
    original = b.account(name="original")
    with store.uow(write=True) as uow:
        uow.accounts.add(original)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.accounts.add(replace(original, name="impostor"))
    with store.uow() as uow:
        assert uow.accounts.get(original.id) == original


# -- users and memberships ------------------------------------------------------------------------


def test_users_and_memberships_round_trip(store: Store) -> None:
    acct, other = b.account(), b.account()
    ada = b.user()
    grace = replace(b.user(email="grace@example.com"), given_name="", family_name="", realm="IBMid")
    owner = b.membership(acct.id, ada.iam_id, AccountRole.OWNER)
    member = b.membership(acct.id, grace.iam_id)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.accounts.add(other)
        uow.users.add(ada)
        uow.users.add(grace)
        uow.users.add_membership(owner)
        uow.users.add_membership(member)
    with store.uow() as uow:
        assert uow.users.get(ada.iam_id) == ada
        assert uow.users.get(grace.iam_id) == grace
        assert uow.users.get("IBMid-NOBODY0000") is None
        assert uow.users.membership(acct.id, ada.iam_id) == owner
        got = uow.users.membership(acct.id, grace.iam_id)
        assert got == member
        assert got is not None and got.role is AccountRole.MEMBER and got.state == "PENDING"
        assert uow.users.membership(other.id, ada.iam_id) is None
        # The user and the membership together, as the token exchange reads them.
        assert uow.users.member(acct.id, ada.iam_id) == (ada, owner)
        assert uow.users.member(acct.id, grace.iam_id) == (grace, member)
        assert uow.users.member(other.id, ada.iam_id) is None
        assert uow.users.member(acct.id, "IBMid-NOBODY0000") is None


def test_membership_needs_an_existing_account_and_user(store: Store) -> None:
    acct, ada = b.account(), b.user()
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.users.add(ada)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.users.add_membership(b.membership(acct.id, "IBMid-GHOST00000"))
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.users.add_membership(b.membership(ids.new_account_id(), ada.iam_id))
    with store.uow() as uow:
        assert uow.users.membership(acct.id, "IBMid-GHOST00000") is None
        assert uow.users.membership(acct.id, ada.iam_id) is None


# -- service IDs ----------------------------------------------------------------------------------


def test_service_ids_round_trip(store: Store) -> None:
    acct, other = b.account(), b.account()
    plain = b.service_id(acct.id, name="plain", description="", crns=(), locked=False)
    rich = b.service_id(
        acct.id,
        name="rich 'quoted' \"name\" ✓",
        description="line one\nline two\t%_\\",
        crns=(
            "crn:v1:bluemix:public:kms:us-south:a/x:one::",
            "crn:v1:bluemix:public:kms::a/x:two::",
        ),
        locked=True,
        modified_at=b.at(90),
    )
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.accounts.add(other)
        uow.service_ids.add(plain)
        uow.service_ids.add(rich)
    with store.uow() as uow:
        assert uow.service_ids.get(plain.id) == plain
        got = uow.service_ids.get(rich.id)
        assert got == rich
        assert got is not None
        assert got.unique_instance_crns == rich.unique_instance_crns
        assert got.meta.history == rich.meta.history
        assert all(isinstance(r, HistoryRecord) for r in got.meta.history)
        assert got.meta.history[0].params == ("name=0", "", "colon:and,comma")
        assert uow.service_ids.get_by_iam_id(rich.iam_id) == rich
        assert uow.service_ids.get("ServiceId-00000000-0000-0000-0000-000000000000") is None
        assert uow.service_ids.get_by_iam_id("iam-ServiceId-nobody") is None
        assert uow.service_ids.count(acct.id) == 2
        assert uow.service_ids.count(other.id) == 0


def test_service_id_iam_id_is_unique_and_account_must_exist(store: Store) -> None:
    acct = b.account()
    first = b.service_id(acct.id, name="first")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(first)
    twin = replace(b.service_id(acct.id, name="twin"), iam_id=first.iam_id)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.service_ids.add(twin)
    orphan = b.service_id(ids.new_account_id(), name="orphan")
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.service_ids.add(orphan)
    with store.uow() as uow:
        assert uow.service_ids.get(twin.id) is None
        assert uow.service_ids.get(orphan.id) is None
        assert uow.service_ids.get_by_iam_id(first.iam_id) == first
        assert uow.service_ids.count(acct.id) == 1


def test_service_id_delete(store: Store) -> None:
    acct = b.account()
    doomed, kept = b.service_id(acct.id, name="doomed"), b.service_id(acct.id, name="kept")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(doomed)
        uow.service_ids.add(kept)
    with store.uow(write=True) as uow:
        assert uow.service_ids.delete(doomed.id) is True
        assert uow.service_ids.delete(doomed.id) is False
    with store.uow(write=True) as uow:
        assert uow.service_ids.delete(doomed.id) is False
        assert uow.service_ids.get(doomed.id) is None
        assert uow.service_ids.get_by_iam_id(doomed.iam_id) is None
        assert uow.service_ids.get(kept.id) == kept
        assert uow.service_ids.count(acct.id) == 1


# -- API keys -------------------------------------------------------------------------------------


def test_api_keys_round_trip(store: Store) -> None:
    acct = b.account()
    sid = b.service_id(acct.id)
    sealed = b.api_key(acct.id, sid.iam_id, expires_at=b.at(86_400), modified_at=b.at(5))
    bare = replace(
        b.api_key(acct.id, "IBMid-USER000001", owner_kind=OwnerKind.USER, sealed_value=None),
        locked=False,
        disabled=True,
        leaked=False,
        support_sessions=False,
    )
    empty_blob = b.api_key(acct.id, sid.iam_id, sealed_value=b"")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
        for key in (sealed, bare, empty_blob):
            uow.api_keys.add(key)
    with store.uow() as uow:
        for key in (sealed, bare, empty_blob):
            assert uow.api_keys.get(key.id) == key
            assert uow.api_keys.get_by_digest(key.value_digest) == key
        got = uow.api_keys.get(sealed.id)
        assert got is not None
        assert isinstance(got.sealed_value, bytes)
        assert got.sealed_value == bytes(range(256))
        assert got.owner_kind is OwnerKind.SERVICE_ID
        assert got.expires_at == b.at(86_400)
        got_bare = uow.api_keys.get(bare.id)
        assert (
            got_bare is not None and got_bare.sealed_value is None and got_bare.expires_at is None
        )
        got_empty = uow.api_keys.get(empty_blob.id)
        assert got_empty is not None and got_empty.sealed_value == b""
        assert uow.api_keys.get("ApiKey-00000000-0000-0000-0000-000000000000") is None
        assert uow.api_keys.get_by_digest("0" * 64) is None


def test_api_key_value_digest_is_unique(store: Store) -> None:
    acct = b.account()
    first = b.api_key(acct.id, "iam-ServiceId-a", name="first")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.api_keys.add(first)
    clash = b.api_key(acct.id, "iam-ServiceId-b", name="clash", digest=first.value_digest)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.api_keys.add(clash)
    with store.uow() as uow:
        assert uow.api_keys.get(clash.id) is None
        assert uow.api_keys.get_by_digest(first.value_digest) == first


def test_api_keys_delete_and_owned_by(store: Store) -> None:
    acct = b.account()
    mine = [b.api_key(acct.id, "iam-ServiceId-mine", name=f"mine {i}") for i in range(3)]
    theirs = b.api_key(acct.id, "iam-ServiceId-theirs", name="theirs")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        for key in (*mine, theirs):
            uow.api_keys.add(key)
    with store.uow(write=True) as uow:
        assert uow.api_keys.count_owned_by("iam-ServiceId-mine") == 3
        assert uow.api_keys.count_owned_by("iam-ServiceId-theirs") == 1
        assert uow.api_keys.count_owned_by("iam-ServiceId-nobody") == 0
        assert uow.api_keys.delete(mine[0].id) is True
        assert uow.api_keys.delete(mine[0].id) is False
        assert uow.api_keys.delete_owned_by("iam-ServiceId-mine") == 2
        assert uow.api_keys.delete_owned_by("iam-ServiceId-mine") == 0
        assert uow.api_keys.delete_owned_by("iam-ServiceId-nobody") == 0
    with store.uow() as uow:
        assert uow.api_keys.count_owned_by("iam-ServiceId-mine") == 0
        assert all(uow.api_keys.get(k.id) is None for k in mine)
        assert uow.api_keys.get(theirs.id) == theirs
        assert uow.api_keys.count_owned_by("iam-ServiceId-theirs") == 1


# -- signing keys ---------------------------------------------------------------------------------


def test_signing_keys_round_trip_in_creation_order(store: Store) -> None:
    newest = b.signing_key(created_at=b.at(300))
    oldest = b.signing_key(created_at=b.at(-300), retired_at=b.at(0), publish_until=b.at(3600))
    middle = b.signing_key(created_at=b.at(0))
    with store.uow() as uow:
        assert uow.signing_keys.all() == []
    with store.uow(write=True) as uow:
        for key in (newest, oldest, middle):
            uow.signing_keys.add(key)
    with store.uow() as uow:
        got = uow.signing_keys.all()
    assert got == [oldest, middle, newest]
    assert all(isinstance(k.sealed_private_key, bytes) for k in got)
    assert got[0].public_jwk == oldest.public_jwk


def test_signing_key_retire_and_delete_unpublished(store: Store) -> None:
    gone = b.signing_key(created_at=b.at(0), retired_at=b.at(10), publish_until=b.at(100))
    edge = b.signing_key(created_at=b.at(1), retired_at=b.at(10), publish_until=b.at(200))
    active = b.signing_key(created_at=b.at(2))
    retiring = b.signing_key(created_at=b.at(3))
    with store.uow(write=True) as uow:
        for key in (gone, edge, active, retiring):
            uow.signing_keys.add(key)
    with store.uow(write=True) as uow:
        uow.signing_keys.retire(retiring.kid, b.at(150), b.at(5000))
    with store.uow(write=True) as uow:
        # publish_until strictly before `now` goes; equal to `now` stays; never-retired stays.
        assert uow.signing_keys.delete_unpublished(b.at(200)) == 1
    with store.uow() as uow:
        got = uow.signing_keys.all()
    assert got == [edge, active, replace(retiring, retired_at=b.at(150), publish_until=b.at(5000))]
    with store.uow(write=True) as uow:
        assert uow.signing_keys.delete_unpublished(b.at(200)) == 0
        assert uow.signing_keys.delete_unpublished(b.at(10_000)) == 2
    with store.uow() as uow:
        assert uow.signing_keys.all() == [active]


# -- refresh tokens -------------------------------------------------------------------------------


def test_refresh_tokens_round_trip(store: Store) -> None:
    fresh = b.refresh_token("family-1")
    spent = b.refresh_token("family-1", used_at=b.at(60), revoked_at=b.at(61))
    with store.uow(write=True) as uow:
        uow.refresh_tokens.add(fresh)
        uow.refresh_tokens.add(spent)
    with store.uow() as uow:
        assert uow.refresh_tokens.get_by_digest(fresh.digest) == fresh
        assert uow.refresh_tokens.get_by_digest(spent.digest) == spent
        assert uow.refresh_tokens.get_by_digest("f" * 64) is None


def test_refresh_token_digest_is_unique(store: Store) -> None:
    first = b.refresh_token("family-1")
    with store.uow(write=True) as uow:
        uow.refresh_tokens.add(first)
    clash = replace(b.refresh_token("family-2"), digest=first.digest)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.refresh_tokens.add(clash)
    with store.uow() as uow:
        assert uow.refresh_tokens.get_by_digest(first.digest) == first


# -- meta -----------------------------------------------------------------------------------------


def test_meta_get_and_put_new(store: Store) -> None:
    with store.uow(write=True) as uow:
        assert uow.meta.get("root key check") is None
        assert uow.meta.put_new("root key check", "abc123" * 10) is True
        assert uow.meta.get("root key check") == "abc123" * 10
        assert uow.meta.put_new("empty", "") is True
    with store.uow() as uow:
        assert uow.meta.get("root key check") == "abc123" * 10
        assert uow.meta.get("empty") == ""
        assert uow.meta.get("absent") is None


# -- time -----------------------------------------------------------------------------------------


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    """Whatever offset goes in, the same instant comes out, in UTC (SQLite has no time zones)."""
    india, pacific = b.T0.astimezone(PLUS_0530), b.at(3600).astimezone(MINUS_0800)
    acct = b.account(created_at=india)
    ada = b.user(created_at=pacific)
    sid = b.service_id(acct.id, created_at=india, modified_at=pacific)
    key = b.api_key(acct.id, sid.iam_id, created_at=india, expires_at=pacific)
    signing = b.signing_key(created_at=india, retired_at=pacific, publish_until=india)
    token = b.refresh_token("f", issued_at=pacific, used_at=india, revoked_at=pacific)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.users.add(ada)
        uow.users.add_membership(replace(b.membership(acct.id, ada.iam_id), created_at=pacific))
        uow.service_ids.add(sid)
        uow.api_keys.add(key)
        uow.signing_keys.add(signing)
        uow.refresh_tokens.add(token)
    with store.uow() as uow:
        got_acct, got_user = uow.accounts.get(acct.id), uow.users.get(ada.iam_id)
        got_member = uow.users.membership(acct.id, ada.iam_id)
        got_sid, got_key = uow.service_ids.get(sid.id), uow.api_keys.get(key.id)
        [got_signing] = uow.signing_keys.all()
        got_token = uow.refresh_tokens.get_by_digest(token.digest)
    assert got_acct == acct and got_user == ada and got_sid == sid and got_key == key
    assert got_signing == signing and got_token == token
    assert got_acct is not None and got_user is not None and got_member is not None
    assert got_sid is not None and got_key is not None and got_token is not None
    for value in (
        got_acct.created_at,
        got_user.created_at,
        got_member.created_at,
        got_sid.meta.created_at,
        got_sid.meta.modified_at,
        got_key.meta.created_at,
        got_key.expires_at,
        got_signing.created_at,
        got_signing.retired_at,
        got_signing.publish_until,
        got_token.issued_at,
        got_token.expires_at,
        got_token.used_at,
        got_token.revoked_at,
    ):
        assert_utc(value)
    assert got_acct.created_at == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert got_member.created_at == pacific


def test_history_timestamps_come_back_aware_utc(store: Store) -> None:
    """History lives in a JSON column, but its timestamps obey the same rule as the columns."""
    acct = b.account()
    records = tuple(replace(r, timestamp=r.timestamp.astimezone(PLUS_0530)) for r in b.history(3))
    sid = b.service_id(acct.id)
    sid = replace(sid, meta=replace(sid.meta, history=records))
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
    with store.uow() as uow:
        got = uow.service_ids.get(sid.id)
    assert got is not None
    assert got.meta.history == records
    for record in got.meta.history:
        assert_utc(record.timestamp)


def test_naive_datetimes_are_refused(store: Store) -> None:
    acct = replace(b.account(), created_at=datetime(2024, 1, 1, 12, 0))
    with pytest.raises(StatementError, match="naive datetime"), store.uow(write=True) as uow:
        uow.accounts.add(acct)
    with store.uow() as uow:
        assert uow.accounts.get(acct.id) is None
        assert uow.accounts.count() == 0
