"""Identity account settings through the official SDK (`IamIdentityV1`), on SQLite and
PostgreSQL: read and update with If-Match, history, the effective settings, and what is
enforced: creation restrictions and token lifetimes. Each test makes its own account."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_platform_services import IamIdentityV1
from ibm_platform_services.iam_identity_v1 import AccountSettingsResponse

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client
from tests.sdk.test_user_management_sdk import new_account, users_client


def active_member(server: LiveServer, account: str, owner_key: str) -> tuple[str, str]:
    """An invited user who accepted, with a first key from the owner and no policies."""
    um = users_client(server, owner_key)
    email = f"member.{uuid.uuid4().hex[:6]}@example.com"
    iam_id = um.invite_users(
        account_id=account, users=[{"email": email, "account_role": "Member"}]
    ).get_result()["resources"][0]["id"]
    key = identity_client(server, owner_key).create_api_key(
        name="first", iam_id=iam_id, account_id=account
    )
    value = key.get_result()["apikey"]
    users_client(server, value).accept(account_id=account)
    return iam_id, value


def put(iam: IamIdentityV1, account: str, **settings: Any) -> dict[str, Any]:
    tag = iam.get_account_settings(account_id=account).get_headers()["ETag"]
    result: dict[str, Any] = iam.update_account_settings(
        account_id=account, if_match=tag, **settings
    ).get_result()
    return result


def test_settings_read_update_with_if_match_and_history(server: LiveServer) -> None:
    account, owner, key = new_account(server)
    iam = identity_client(server, key)
    got = iam.get_account_settings(account_id=account)
    body = got.get_result()
    AccountSettingsResponse.from_dict(body)  # every required field is there
    assert body["restrict_create_service_id"] == "NOT_SET" and body["mfa"] == "NONE"
    assert got.get_headers()["ETag"] == body["entity_tag"]

    updated = iam.update_account_settings(
        account_id=account,
        if_match=body["entity_tag"],
        mfa="TOTP",
        session_expiration_in_seconds="7200",
        max_sessions_per_identity="NOT_SET",
        allowed_ip_addresses="10.0.0.0/8,192.0.2.7",
        user_mfa=[{"iam_id": owner, "mfa": "LEVEL3"}],
    )
    new = updated.get_result()
    assert updated.get_headers()["ETag"] == new["entity_tag"] != body["entity_tag"]
    assert (new["mfa"], new["session_expiration_in_seconds"]) == ("TOTP", "7200")
    assert new["max_sessions_per_identity"] == "NOT_SET"
    assert new["user_mfa"] == [{"iam_id": owner, "mfa": "LEVEL3"}]
    assert new["allowed_ip_addresses"] == "10.0.0.0/8,192.0.2.7"
    assert [h["action"] for h in new["history"]] == ["update"]  # as IBM's own test reads it

    with pytest.raises(ApiException) as stale:
        iam.update_account_settings(account_id=account, if_match=body["entity_tag"], mfa="NONE")
    assert stale.value.code == 412
    history = iam.get_account_settings(account_id=account, include_history=True).get_result()
    assert history["mfa"] == "TOTP"
    assert [h["action"] for h in history["history"]] == ["update"]
    assert history["history"][0]["iam_id"] == owner

    effective = iam.get_effective_account_settings(account_id=account).get_result()
    assert effective["account_id"] == account
    assert effective["effective"]["mfa"] == effective["account"]["mfa"] == "TOTP"


def test_members_create_service_ids_unless_restricted(server: LiveServer) -> None:
    account, _, owner_key = new_account(server)
    _, member_key = active_member(server, account, owner_key)
    member = identity_client(server, member_key)
    # NOT_SET: any active member may create a service ID, and an API key for themselves.
    created = member.create_service_id(account_id=account, name="members may")
    assert created.get_status_code() == 201
    own = member.create_api_key(name="mine", iam_id=member_iam(member), account_id=account)
    assert own.get_status_code() == 201

    owner = identity_client(server, owner_key)
    put(
        owner,
        account,
        restrict_create_service_id="RESTRICTED",
        restrict_create_platform_apikey="RESTRICTED",
    )
    with pytest.raises(ApiException) as refused:
        member.create_service_id(account_id=account, name="not any more")
    assert refused.value.code == 403
    with pytest.raises(ApiException) as no_key:
        member.create_api_key(name="mine too", iam_id=member_iam(member), account_id=account)
    assert no_key.value.code == 403
    # The owner creates through policies, whatever the setting.
    assert owner.create_service_id(account_id=account, name="owner may").get_status_code() == 201

    put(owner, account, restrict_create_service_id="NOT_RESTRICTED")
    again = member.create_service_id(account_id=account, name="again")
    assert again.get_status_code() == 201


def member_iam(client: IamIdentityV1) -> str:
    token = client.authenticator.token_manager.get_token()
    return str(jwt.decode(token, options={"verify_signature": False})["iam_id"])


def test_token_lifetime_follows_the_account_setting(server: LiveServer) -> None:
    account, _, key = new_account(server)
    put(
        identity_client(server, key),
        account,
        system_access_token_expiration_in_seconds="900",
        system_refresh_token_expiration_in_seconds="NOT_SET",
    )
    fresh = identity_client(server, key)
    claims = jwt.decode(
        fresh.authenticator.token_manager.get_token(), options={"verify_signature": False}
    )
    assert claims["exp"] - claims["iat"] == 900
    assert claims["account"]["bss"] == account
    put(fresh, account, system_access_token_expiration_in_seconds="NOT_SET")
    default = jwt.decode(
        identity_client(server, key).authenticator.token_manager.get_token(),
        options={"verify_signature": False},
    )
    assert default["exp"] - default["iat"] == 3600
