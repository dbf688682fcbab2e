"""Enterprise Management response bodies (spec §9 `Enterprise`, `Account`, `AccountGroup`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from strongroom.resources.enterprise_models import (
    AccountNode,
    Changed,
    CreatedAccount,
    CreatedEnterprise,
    Enterprise,
    GroupNode,
    Origin,
)


def iso(value: datetime) -> str:
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _changed(changed: Changed) -> dict[str, Any]:
    return {
        "created_at": iso(changed.created_at),
        "created_by": changed.created_by,
        "updated_at": iso(changed.updated_at),
        "updated_by": changed.updated_by,
    }


def enterprise_out(e: Enterprise) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": f"/v1/enterprises/{e.id}",
        "id": e.id,
        "enterprise_account_id": e.account_id,
        "crn": e.crn,
        "name": e.name,
        "domain": e.domain,
        "state": e.state,
        "primary_contact_iam_id": e.primary_contact_iam_id,
        "primary_contact_email": e.primary_contact_email,
        "source_account_id": e.source_account_id,
        **_changed(e.changed),
    }
    return {k: v for k, v in body.items() if v is not None}


def account_out(node: AccountNode) -> dict[str, Any]:
    place = node.place
    return {
        "url": f"/v1/accounts/{place.account_id}",
        "id": place.account_id,
        "crn": place.crn,
        "parent": node.parent,
        "enterprise_account_id": place.enterprise_account_id,
        "enterprise_id": place.enterprise_id,
        "enterprise_path": node.path,
        "name": node.name,
        "state": node.state,
        "owner_iam_id": node.owner_iam_id,
        "owner_email": node.owner_email,
        "is_enterprise_account": place.origin is Origin.ENTERPRISE,
        **_changed(place.changed),
    }


def group_out(node: GroupNode) -> dict[str, Any]:
    g = node.group
    return {
        "url": f"/v1/account-groups/{g.id}",
        "id": g.id,
        "crn": g.crn,
        "parent": node.parent,
        "enterprise_account_id": g.enterprise_account_id,
        "enterprise_id": g.enterprise_id,
        "enterprise_path": node.path,
        "name": g.name,
        "state": g.state,
        "primary_contact_iam_id": g.primary_contact_iam_id,
        "primary_contact_email": g.primary_contact_email,
        **_changed(g.changed),
    }


def created_enterprise_out(created: CreatedEnterprise) -> dict[str, Any]:
    # `enterprise_id` and `enterprise_account_id` are IBM's; the administrator service ID and
    # its API key (shown this once) are strongroom's way into the new enterprise account.
    return {
        "enterprise_id": created.enterprise_id,
        "enterprise_account_id": created.enterprise_account_id,
        "iam_service_id": created.service_id,
        "iam_apikey_id": created.apikey_id,
        "iam_apikey": created.apikey,
    }


def created_account_out(created: CreatedAccount) -> dict[str, Any]:
    body = {
        "account_id": created.account_id,
        "iam_service_id": created.service_id,
        "iam_apikey_id": created.apikey_id,
        "iam_apikey": created.apikey,
    }
    return {k: v for k, v in body.items() if v is not None}
