"""What callers ask of IAM Identity and what they get back, and the rules on that input
(names, descriptions, CRNs, If-Match). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from strongroom.crn import CRN, CRNError
from strongroom.errors import Invalid, PreconditionFailed, PreconditionRequired
from strongroom.identity.models import Account, ApiKey, LeakAction, User

MAX_NAME = 255
MAX_DESCRIPTION = 1024


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """What a caller asks for when creating an API key (spec §4.1 `create_api_key` body)."""

    name: str
    description: str = ""
    value: str | None = None  # caller-chosen value, else generated
    store_value: bool = False
    support_sessions: bool = False
    action_when_leaked: LeakAction = LeakAction.DISABLE
    expires_at: datetime | None = None
    locked: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    value: str  # shown once, in the create response


@dataclass(frozen=True, slots=True)
class ApiKeyChanges:
    """`update_api_key` body; None leaves a field as it is, `description=""` clears it."""

    name: str | None = None
    description: str | None = None
    support_sessions: bool | None = None
    action_when_leaked: LeakAction | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceIdChanges:
    name: str | None = None
    description: str | None = None
    unique_instance_crns: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class NewAccount:
    account: Account
    owner: User
    owner_key: CreatedApiKey


def check_name(name: str, what: str) -> str:
    if not name or not name.strip():
        raise Invalid(f"the {what} name must not be empty", field="name")
    if len(name) > MAX_NAME:
        raise Invalid(f"the {what} name must be at most {MAX_NAME} characters", field="name")
    return name


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(
            f"the description must be at most {MAX_DESCRIPTION} characters", field="description"
        )
    return description


def check_crns(crns: tuple[str, ...]) -> tuple[str, ...]:
    for crn in crns:
        try:
            CRN.parse(crn)
        except CRNError as exc:
            raise Invalid(str(exc), field="unique_instance_crns") from exc
    return crns


def check_if_match(if_match: str | None, current: str) -> None:
    """Spec §1 fact 6: updates carry If-Match; `*` means any version."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired("the If-Match header is required; send the entity tag you read")
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            f"If-Match `{if_match}` does not match the current entity tag; read the object again"
        )
