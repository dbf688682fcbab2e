"""Conformance: an account's users (memberships, states, per-account profiles and settings) and
identity account settings (kept exactly as sent, versioned), on every backend."""

from __future__ import annotations

from dataclasses import replace

from strongroom.identity.models import AccountRole
from strongroom.identity.settings_rules import DEFAULTS, IdentitySettings
from strongroom.identity.user_models import UserProfile, UserSettings
from tests.conformance import builders as b
from tests.conformance.conftest import Store


def _world(store: Store) -> tuple[str, str, str]:
    """Two accounts; Ada is a member of both, Bob of the first only."""
    first, second = b.account(), b.account()
    ada, bob = b.user(email="Ada@Example.com"), b.user(email="bob@example.com")
    with store.uow(write=True) as uow:
        uow.accounts.add(first)
        uow.accounts.add(second)
        uow.users.add(ada)
        uow.users.add(bob)
        uow.users.add_membership(b.membership(first.id, ada.iam_id))
        uow.users.add_membership(b.membership(first.id, bob.iam_id))
        uow.users.add_membership(b.membership(second.id, ada.iam_id, AccountRole.OWNER))
    return first.id, second.id, ada.iam_id


def profile(account_id: str, iam_id: str, **changes: object) -> UserProfile:
    base = UserProfile(
        account_id=account_id,
        iam_id=iam_id,
        user_id="ada@example.com",
        firstname="Ada",
        lastname="Lovelace",
        email="ada@example.com",
        phonenumber="+44 20 7946 0000",
        altphonenumber=None,
        photo="https://example.com/ada.png",
        invited_by=b.OWNER,
        added_on=b.at(5),
        settings=UserSettings("en", "fr", "10.0.0.0/8", True),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_users_are_found_by_email_whatever_the_case(store: Store) -> None:
    _, _, ada = _world(store)
    with store.uow() as uow:
        found = uow.account_users.user_by_email("ada@EXAMPLE.com")
        assert found is not None and found.iam_id == ada
        assert uow.account_users.user_by_email("nobody@example.com") is None


def test_memberships_and_states_are_per_account(store: Store) -> None:
    first, second, ada = _world(store)
    with store.uow(write=True) as uow:
        assert uow.account_users.set_state(first, ada, "ACTIVE")
        assert not uow.account_users.set_state(first, "IBMid-NOBODY0000", "ACTIVE")
    with store.uow() as uow:
        states = uow.account_users.member_states(first)
        assert states[ada] == "ACTIVE" and len(states) == 2
        assert dict(uow.account_users.member_states(second)) == {ada: "PENDING"}
        assert [m.iam_id for m in uow.account_users.memberships(second)] == [ada]


def test_profiles_round_trip_update_and_stay_in_their_account(store: Store) -> None:
    first, second, ada = _world(store)
    written = profile(first, ada)
    with store.uow(write=True) as uow:
        uow.account_users.put_profile(written)
    with store.uow() as uow:
        assert uow.account_users.profile(first, ada) == written
        assert uow.account_users.profile(second, ada) is None
    changed = replace(written, phonenumber=None, settings=UserSettings(language="de"))
    with store.uow(write=True) as uow:
        uow.account_users.put_profile(changed)
    with store.uow() as uow:
        assert uow.account_users.profile(first, ada) == changed


def test_removing_a_member_drops_membership_and_profile_there_only(store: Store) -> None:
    first, second, ada = _world(store)
    with store.uow(write=True) as uow:
        uow.account_users.put_profile(profile(first, ada))
        assert uow.account_users.remove(first, ada)
        assert not uow.account_users.remove(first, ada)
    with store.uow() as uow:
        assert uow.users.membership(first, ada) is None
        assert uow.account_users.profile(first, ada) is None
        assert uow.users.membership(second, ada) is not None
        assert uow.users.get(ada) is not None  # users are global


def test_identity_settings_are_kept_as_sent_and_updated_only_at_the_read_tag(store: Store) -> None:
    first, second, _ = _world(store)
    values = {**DEFAULTS, "mfa": "TOTP", "session_expiration_in_seconds": "NOT_SET",
              "user_mfa": [{"iam_id": "IBMid-X", "mfa": "LEVEL3"}]}  # fmt: skip
    written = IdentitySettings(first, values, b.versioned())
    with store.uow(write=True) as uow:
        assert uow.identity_settings.get(first) is None
        assert uow.identity_settings.add(written)
        assert not uow.identity_settings.add(written)  # the first write happens once
    with store.uow() as uow:
        assert uow.identity_settings.get(first) == written
        assert uow.identity_settings.get(second) is None
    assert written.meta is not None
    newer = replace(written, values={**values, "mfa": "NONE"}, meta=b.versioned())
    with store.uow(write=True) as uow:
        assert not uow.identity_settings.update(newer, expected_tag="1-stale")
        assert uow.identity_settings.update(newer, expected_tag=written.meta.entity_tag)
    with store.uow() as uow:
        assert uow.identity_settings.get(first) == newer
