"""Enterprise templates (spec §4.6 trusted-profile and account-settings templates, §6.6 policy
templates): strongroom keeps none, so their lists answer empty, in IBM's list shapes.

Clients that clean up after themselves list templates before deleting them (IBM's own
integration tests for IAM Identity and Policy Management do, in setup and teardown); an empty
list lets them run unchanged, where a 404 would fail them. The lists are still authorized
like any read of the account.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard
from strongroom.authz import Guard, Resource

router = APIRouter()


def _require(guard: Guard, service: str, kind: str, account_id: str | None) -> None:
    guard.require(Resource(account_id or guard.principal.account_id, service, kind))


@router.get("/v1/profile_templates", **iam_action("iam-identity.template.list"))
def list_profile_templates(guard: CurrentGuard, account_id: str | None = None) -> dict[str, Any]:
    _require(guard, "iam-identity", "profile-template", account_id)
    return {"offset": 0, "limit": 20, "profile_templates": []}


@router.get("/v1/account_settings_templates", **iam_action("iam-identity.template.list"))
def list_account_settings_templates(
    guard: CurrentGuard, account_id: str | None = None
) -> dict[str, Any]:
    _require(guard, "iam-identity", "account-settings-template", account_id)
    return {"offset": 0, "limit": 20, "account_settings_templates": []}


@router.get("/v1/policy_templates", **iam_action("iam-access-management.templates.read"))
def list_policy_templates(guard: CurrentGuard, account_id: str | None = None) -> dict[str, Any]:
    _require(guard, "iam-access-management", "policy-template", account_id)
    return {"limit": 50, "policy_templates": []}
