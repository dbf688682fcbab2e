"""Identifier formats of IBM Cloud IAM (spec ibm-platform-api.md §1 fact 12 and §3.5)."""

from __future__ import annotations

import re
import secrets
import uuid

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

ACCOUNT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
SERVICE_ID_RE = re.compile(r"^ServiceId-[0-9a-f-]{36}$")
API_KEY_ID_RE = re.compile(r"^ApiKey-[0-9a-f-]{36}$")
USER_IAM_ID_RE = re.compile(r"^IBMid-[0-9A-Za-z]{6,}$")
PROFILE_ID_RE = re.compile(r"^Profile-[0-9a-f-]{36}$")


def new_account_id() -> str:
    """Accounts are 32 lowercase hex characters."""
    return secrets.token_hex(16)


def new_user_iam_id() -> str:
    """Users live in the IBMid realm: `IBMid-` and ten alphanumerics."""
    return "IBMid-" + "".join(secrets.choice(_ALNUM) for _ in range(10))


def new_service_id() -> str:
    return f"ServiceId-{uuid.uuid4()}"


def service_id_iam_id(service_id: str) -> str:
    return f"iam-{service_id}"


def new_profile_id() -> str:
    """Trusted profiles: `Profile-<uuid>`, iam_id `iam-Profile-<uuid>` (spec §3.5)."""
    return f"Profile-{uuid.uuid4()}"


def profile_iam_id(profile_id: str) -> str:
    return f"iam-{profile_id}"


def new_api_key_id() -> str:
    return f"ApiKey-{uuid.uuid4()}"


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_entity_tag(version: int) -> str:
    """IBM entity tags look like `<version>-<32 hex>`; the version counts writes."""
    return f"{version}-{secrets.token_hex(16)}"


def entity_tag_version(tag: str) -> int:
    head, _, _ = tag.partition("-")
    return int(head) if head.isdigit() else 0
