"""User Management response bodies (spec §10 `UserList`, `UserProfile`, `UserSettings`) and
identity account settings (spec §4.4 `AccountSettingsResponse`)."""

from __future__ import annotations

from typing import Any

from strongroom.api.schemas.identity import history_out, ibm_time
from strongroom.identity.settings_rules import IdentitySettings
from strongroom.identity.user_models import AccountUser, UserSettings
from strongroom.identity.users import Invited


def settings_out(settings: UserSettings) -> dict[str, Any]:
    body = {
        "language": settings.language,
        "notification_language": settings.notification_language,
        "allowed_ip_addresses": settings.allowed_ip_addresses,
        "self_manage": settings.self_manage,
    }
    return {k: v for k, v in body.items() if v is not None}


def user_out(found: AccountUser, *, include_settings: bool = False) -> dict[str, Any]:
    profile = found.profile
    body: dict[str, Any] = {
        "id": found.user.iam_id,
        "iam_id": found.user.iam_id,
        "realm": found.user.realm,
        "user_id": profile.user_id,
        "firstname": profile.firstname,
        "lastname": profile.lastname,
        "state": found.state,
        "email": profile.email,
        "phonenumber": profile.phonenumber,
        "altphonenumber": profile.altphonenumber,
        "photo": profile.photo,
        "account_id": profile.account_id,
        "added_on": ibm_time(profile.added_on),
    }
    body = {k: v for k, v in body.items() if v is not None}
    if include_settings:
        body["settings"] = settings_out(profile.settings)
    return body


def invited_out(invited: list[Invited]) -> dict[str, Any]:
    return {"resources": [{"email": i.email, "id": i.iam_id, "state": i.state} for i in invited]}


def account_settings_out(settings: IdentitySettings, *, include_history: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": settings.account_id,
        "entity_tag": settings.entity_tag,
        **settings.values,
    }
    if include_history:
        body["history"] = history_out(settings.meta.history) if settings.meta else []
    return body


def effective_settings_out(settings: IdentitySettings) -> dict[str, Any]:
    """Spec §4.4 effective settings: strongroom has no settings templates, so what is in effect
    is the account's own section."""
    values = dict(settings.values)
    return {"account_id": settings.account_id, "effective": values, "account": values}
