"""The official SDK's `UserManagementV1` (with `IamIdentityV1` and `IamPolicyManagementV1`)
against a live server, on SQLite and PostgreSQL: inviting users with access, their first API key,
accepting, profiles and settings, and removal taking effect at once. Each test makes its own
account, so the shared server's other tests are untouched."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamPolicyManagementV1, UserManagementV1
from ibm_platform_services.user_management_v1 import UserList, UserProfile

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"


def users_client(server: LiveServer, apikey: str) -> UserManagementV1:
    client = UserManagementV1(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def policy_client(server: LiveServer, apikey: str) -> IamPolicyManagementV1:
    client = IamPolicyManagementV1(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def new_account(server: LiveServer) -> tuple[str, str, str]:
    """A fresh account: its id, its owner's iam_id and the owner's API key."""
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(
        f"users {tag}", f"owner.{tag}@example.com", None
    )
    return made.account.id, made.owner.iam_id, made.owner_key.value


def viewer_on_identity(account_id: str) -> dict[str, object]:
    return {
        "type": "access",
        "roles": [{"role_id": VIEWER}],
        "resources": [
            {
                "attributes": [
                    {"name": "accountId", "value": account_id},
                    {"name": "serviceName", "value": "iam-identity"},
                ]
            }
        ],
    }


def start_of(url: str | None) -> str | None:
    if url is None:
        return None
    return parse_qs(urlparse(url).query)["_start"][0]


def test_invite_list_page_search_profile_and_settings(server: LiveServer) -> None:
    account, owner, key = new_account(server)
    um = users_client(server, key)
    emails = [
        f"ann.lee@{uuid.uuid4().hex[:6]}.example.com",
        "bo.chan@example.org",
        "cy@example.net",
    ]
    invited = um.invite_users(
        account_id=account,
        users=[{"email": e, "account_role": "Member"} for e in emails],
        iam_policy=[viewer_on_identity(account)],
    )
    assert invited.get_status_code() == 202
    resources = invited.get_result()["resources"]
    assert [r["email"] for r in resources] == emails
    assert all(r["id"].startswith("IBMid-") and r["state"] == "PROCESSING" for r in resources)
    ann = resources[0]["id"]

    # The invitation's policy is a real policy with the invited user as subject.
    listed = policy_client(server, key).list_policies(account_id=account, iam_id=ann)
    policies = listed.get_result()["policies"]
    assert len(policies) == 1 and policies[0]["roles"][0]["role_id"] == VIEWER

    # Paging with `_start` from `next_url`, as the SDK's pager does.
    first = um.list_users(account_id=account, limit=3).get_result()
    UserList.from_dict(first)
    assert first["total_results"] == 4 and first["limit"] == 3 and len(first["resources"]) == 3
    rest = um.list_users(
        account_id=account, limit=3, start=start_of(first["next_url"])
    ).get_result()
    assert [u["iam_id"] for u in rest["resources"]] and rest.get("next_url") is None
    seen = {u["iam_id"] for u in first["resources"] + rest["resources"]}
    assert seen == {owner, *(r["id"] for r in resources)}

    found = um.list_users(account_id=account, search="email:ann.lee,lastname:chan").get_result()
    assert sorted(u["email"] for u in found["resources"]) == sorted(emails[:2])
    pending = um.list_users(account_id=account, search="state:PENDING").get_result()
    assert pending["total_results"] == 3

    profile = um.get_user_profile(account_id=account, iam_id=ann).get_result()
    UserProfile.from_dict(profile)
    assert (profile["state"], profile["email"], profile["account_id"]) == (
        "PENDING",
        emails[0],
        account,
    )
    assert (profile["firstname"], profile["lastname"]) == ("Ann", "Lee")
    patched = um.update_user_profile(
        account_id=account, iam_id=ann, firstname="Annie", phonenumber="+1 555 0100"
    )
    assert patched.get_status_code() == 204
    again = um.get_user_profile(account_id=account, iam_id=ann).get_result()
    assert (again["firstname"], again["phonenumber"], again["lastname"]) == (
        "Annie",
        "+1 555 0100",
        "Lee",
    )

    assert um.get_user_settings(account_id=account, iam_id=ann).get_result() == {}
    changed = um.update_user_settings(
        account_id=account, iam_id=ann, language="fr", self_manage=True
    )
    assert changed.get_status_code() == 204
    settings = um.get_user_settings(account_id=account, iam_id=ann).get_result()
    assert settings == {"language": "fr", "self_manage": True}
    with_settings = um.list_users(account_id=account, search=f"iam_id:{ann}", include_settings=True)
    assert with_settings.get_result()["resources"][0]["settings"] == settings


def test_invited_user_gets_a_first_key_accepts_acts_and_loses_access_on_removal(
    server: LiveServer,
) -> None:
    account, _, owner_key = new_account(server)
    um = users_client(server, owner_key)
    email = f"dee.{uuid.uuid4().hex[:6]}@example.com"
    invited = um.invite_users(
        account_id=account,
        users=[{"email": email, "account_role": "Member"}],
        iam_policy=[viewer_on_identity(account)],
    ).get_result()["resources"][0]
    dee = invited["id"]

    # strongroom sends no e-mail: an administrator creates the invited user's first API key.
    created = identity_client(server, owner_key).create_api_key(
        name="first key", iam_id=dee, account_id=account
    )
    assert created.get_status_code() == 201
    dee_key = created.get_result()["apikey"]

    theirs = identity_client(server, dee_key)
    with pytest.raises(ApiException) as pending:
        theirs.list_service_ids(account_id=account)
    assert pending.value.code == 403 and "accepted" in pending.value.message

    accepted = users_client(server, dee_key).accept(account_id=account)
    assert accepted.get_status_code() == 202
    assert um.get_user_profile(account_id=account, iam_id=dee).get_result()["state"] == "ACTIVE"
    assert theirs.list_service_ids(account_id=account).get_status_code() == 200  # Viewer

    removed = um.remove_user(account_id=account, iam_id=dee)
    assert removed.get_status_code() == 204
    # The token they hold is refused at once, and their key gives no new one.
    with pytest.raises(ApiException) as refused:
        theirs.list_service_ids(account_id=account)
    assert refused.value.code == 403 and "not a member" in refused.value.message
    with pytest.raises(ApiException) as no_token:
        identity_client(server, dee_key).list_service_ids(account_id=account)
    assert no_token.value.code == 400
    with pytest.raises(ApiException) as gone:
        um.get_user_profile(account_id=account, iam_id=dee)
    assert gone.value.code == 404 and dee in gone.value.message
    # Their policies went with them.
    listed = policy_client(server, owner_key).list_policies(account_id=account, iam_id=dee)
    assert listed.get_result()["policies"] == []


def test_v3_removal_answers_202_and_the_owner_stays(server: LiveServer) -> None:
    account, owner, key = new_account(server)
    um = users_client(server, key)
    invited = um.invite_users(
        account_id=account, users=[{"email": "eve@example.com", "account_role": "Member"}]
    ).get_result()["resources"][0]
    assert um.v3_remove_user(account_id=account, iam_id=invited["id"]).get_status_code() == 202
    with pytest.raises(ApiException) as owner_stays:
        um.remove_user(account_id=account, iam_id=owner)
    assert owner_stays.value.code == 409 and owner in owner_stays.value.message
    assert um.get_user_profile(account_id=account, iam_id=owner).get_result()["state"] == "ACTIVE"


def test_a_service_id_cannot_invite_even_as_administrator(server: LiveServer) -> None:
    account, _, key = new_account(server)
    iam = identity_client(server, key)
    sid = iam.create_service_id(
        account_id=account, name="inviter", apikey={"name": "k"}
    ).get_result()
    policy_client(server, key).create_policy(
        type="access",
        subjects=[{"attributes": [{"name": "iam_id", "value": sid["iam_id"]}]}],
        roles=[{"role_id": "crn:v1:bluemix:public:iam::::role:Administrator"}],
        resources=[
            {
                "attributes": [
                    {"name": "accountId", "value": account},
                    {"name": "serviceName", "value": "user-management"},
                ]
            }
        ],
    )
    with pytest.raises(ApiException) as refused:
        users_client(server, sid["apikey"]["apikey"]).invite_users(
            account_id=account, users=[{"email": "x@example.com", "account_role": "Member"}]
        )
    assert refused.value.code == 403 and "only users invite" in refused.value.message
    listed = users_client(server, key).list_users(account_id=account).get_result()
    assert listed["total_results"] == 1
