"""Access-management account settings (spec §6.5) through the official `IamPolicyManagementV1`
against a live server (SQLite and PostgreSQL): the defaults, a PATCH with If-Match as IBM's own
integration test sends it, stale tags refused, bad input named, other accounts closed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamPolicyManagementV1
from ibm_platform_services.iam_policy_management_v1 import AccountSettingsAccessManagement

from strongroom.testing.server import LiveServer


def new_account(server: LiveServer) -> tuple[str, IamPolicyManagementV1]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"s {tag}", f"s.{tag}@example.com", None)
    client = IamPolicyManagementV1(
        authenticator=IAMAuthenticator(made.owner_key.value, url=server.url)
    )
    client.set_service_url(server.url)
    return made.account.id, client


def kinds(state: str, accounts: list[str] | None = None) -> dict[str, Any]:
    one = {"state": state, "external_allowed_accounts": accounts or []}
    return {"identity_types": {"user": one, "service_id": one, "service": one}}


def test_defaults_then_update_with_if_match(server: LiveServer) -> None:
    account, pm = new_account(server)
    got = pm.get_settings(account_id=account, accept_language="default")
    first = AccountSettingsAccessManagement.from_dict(got.get_result())
    assert first.external_account_identity_interaction.identity_types.user.state == "enabled"
    assert first.external_account_identity_interaction.identity_types.service.state == "enabled"
    tag = got.get_headers()["ETag"]
    assert pm.get_settings(account_id=account).get_headers()["ETag"] == tag  # stable

    updated = pm.update_settings(
        account_id=account,
        accept_language="default",
        if_match=tag,
        external_account_identity_interaction=kinds("monitor"),
    )
    assert updated.get_status_code() == 200
    types = updated.get_result()["external_account_identity_interaction"]["identity_types"]
    assert {k: v["state"] for k, v in types.items()} == dict.fromkeys(types, "monitor")
    new_tag = updated.get_headers()["ETag"]
    assert new_tag != tag

    # A PATCH of one identity type leaves the others as they were.
    allowed = "0123456789abcdef0123456789abcdef"
    limited = pm.update_settings(
        account_id=account,
        if_match=new_tag,
        external_account_identity_interaction={
            "identity_types": {"user": {"state": "limited", "external_allowed_accounts": [allowed]}}
        },
    ).get_result()["external_account_identity_interaction"]["identity_types"]
    assert limited["user"] == {"state": "limited", "external_allowed_accounts": [allowed]}
    assert limited["service"]["state"] == limited["service_id"]["state"] == "monitor"

    with pytest.raises(ApiException) as stale:
        pm.update_settings(
            account_id=account, if_match=tag, external_account_identity_interaction=kinds("enabled")
        )
    assert stale.value.code == 412


@pytest.mark.parametrize(
    ("interaction", "named"),
    [
        ({"identity_types": {"user": {"state": "open"}}}, "identity_types.user.state"),
        ({"identity_types": {"robot": {"state": "enabled"}}}, "identity_types.robot"),
        ({"identity_types": {}}, "identity_types"),
        (
            {"identity_types": {"user": {"external_allowed_accounts": ["acct-b"]}}},
            "external_allowed_accounts",
        ),
    ],
)
def test_bad_settings_name_the_field_and_change_nothing(
    server: LiveServer, interaction: dict[str, Any], named: str
) -> None:
    account, pm = new_account(server)
    tag = pm.get_settings(account_id=account).get_headers()["ETag"]
    with pytest.raises(ApiException) as refused:
        pm.update_settings(
            account_id=account, if_match=tag, external_account_identity_interaction=interaction
        )
    assert refused.value.code == 400 and named in refused.value.message
    after = pm.get_settings(account_id=account)
    assert after.get_headers()["ETag"] == tag


def test_missing_if_match_and_other_accounts(server: LiveServer) -> None:
    account, pm = new_account(server)
    other, theirs = new_account(server)
    request = pm.prepare_request(
        method="PATCH",
        url=f"/v1/accounts/{account}/settings/access_management",
        headers={"Content-Type": "application/json"},
        data='{"external_account_identity_interaction": {"identity_types": {"user": {}}}}',
    )
    with pytest.raises(ApiException) as no_tag:
        pm.send(request)
    assert no_tag.value.code == 428
    with pytest.raises(ApiException) as foreign:
        theirs.get_settings(account_id=account)
    with pytest.raises(ApiException) as nowhere:
        theirs.get_settings(account_id=uuid.uuid4().hex)
    assert foreign.value.code == nowhere.value.code == 404
    assert theirs.get_settings(account_id=other).get_status_code() == 200
