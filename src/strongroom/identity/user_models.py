"""A user as an account sees them (spec §10 `UserProfile`, `UserSettings`): the global `User`,
their `Membership` (role, state) and the account's own profile and settings for them.

The profile is kept per account, so that what one account's administrators write about a user
(phone numbers, photo, names) is never seen or changed by another account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from strongroom.identity.models import Membership, User


class MemberState(StrEnum):
    """Spec §10 `UserProfile.state`. Invited users go PROCESSING -> PENDING -> ACTIVE."""

    PROCESSING = "PROCESSING"
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    DISABLED_CLASSIC_INFRASTRUCTURE = "DISABLED_CLASSIC_INFRASTRUCTURE"
    VPN_ONLY = "VPN_ONLY"


# Members that have not accepted yet: they may accept and do nothing else (spec §10).
INVITED_STATES = frozenset({MemberState.PROCESSING.value, MemberState.PENDING.value})


@dataclass(frozen=True, slots=True)
class UserSettings:
    """Spec §10 `get_user_settings`: four fields, each unset until written."""

    language: str | None = None
    notification_language: str | None = None
    allowed_ip_addresses: str | None = None
    self_manage: bool | None = None


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What one account keeps about one of its users, beside the global `User`."""

    account_id: str
    iam_id: str
    user_id: str  # the login, IBM's `user_id` (the e-mail for IBMid users)
    firstname: str
    lastname: str
    email: str
    phonenumber: str | None
    altphonenumber: str | None
    photo: str | None
    invited_by: str | None  # None for the owner, who was not invited
    added_on: datetime
    settings: UserSettings = UserSettings()

    @classmethod
    def default_for(cls, user: User, membership: Membership) -> UserProfile:
        """The profile of a member the account has written nothing about (e.g. the owner)."""
        return cls(
            account_id=membership.account_id,
            iam_id=user.iam_id,
            user_id=user.email,
            firstname=user.given_name,
            lastname=user.family_name,
            email=user.email,
            phonenumber=None,
            altphonenumber=None,
            photo=None,
            invited_by=None,
            added_on=membership.created_at,
        )


@dataclass(frozen=True, slots=True)
class AccountUser:
    """One row of `GET /v2/accounts/{account_id}/users`."""

    user: User
    membership: Membership
    profile: UserProfile

    @property
    def state(self) -> str:
        return self.membership.state
