"""Where users, trusted profiles and access groups meet, through the official SDKs against a
live server (SQLite and PostgreSQL): an invitation's `access_groups` make the user a member
whose group policy then applies; the inviter needs the right to add members to each group; a
removed user and a deleted profile leave every group at once."""

from __future__ import annotations

import uuid

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamAccessGroupsV2

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client
from tests.sdk.test_user_management_sdk import (
    new_account,
    policy_client,
    users_client,
    viewer_on_identity,
)


def groups_client(server: LiveServer, apikey: str) -> IamAccessGroupsV2:
    client = IamAccessGroupsV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def group_viewer_policy(account: str, group_id: str) -> dict[str, object]:
    """Viewer on IAM Identity for the members of `group_id` (v1 shape, as the SDK sends it)."""
    policy = viewer_on_identity(account)
    subject = {"attributes": [{"name": "access_group_id", "value": group_id}]}
    return {**policy, "subjects": [subject]}


def test_an_invitation_adds_the_user_to_its_groups_and_removal_takes_them_out(
    server: LiveServer,
) -> None:
    account, _, owner_key = new_account(server)
    groups = groups_client(server, owner_key)
    group = groups.create_access_group(account_id=account, name="readers").get_result()
    policy_client(server, owner_key).create_policy(**group_viewer_policy(account, group["id"]))

    um = users_client(server, owner_key)
    email = f"gil.{uuid.uuid4().hex[:6]}@example.com"
    invited = um.invite_users(
        account_id=account,
        users=[{"email": email, "account_role": "Member"}],
        access_groups=[group["id"]],
    )
    assert invited.get_status_code() == 202
    gil = invited.get_result()["resources"][0]["id"]
    members = groups.list_access_group_members(access_group_id=group["id"]).get_result()
    assert [m["iam_id"] for m in members["members"]] == [gil]

    key = (
        identity_client(server, owner_key)
        .create_api_key(name="first", iam_id=gil, account_id=account)
        .get_result()["apikey"]
    )
    users_client(server, key).accept(account_id=account)
    # The group's Viewer policy is the only one naming gil's group: it lets gil list IDs.
    listed = identity_client(server, key).list_service_ids(account_id=account)
    assert listed.get_status_code() == 200

    um.remove_user(account_id=account, iam_id=gil)
    with pytest.raises(ApiException) as gone:
        groups.is_member_of_access_group(access_group_id=group["id"], iam_id=gil)
    assert gone.value.code == 404


def test_an_invitation_into_a_group_of_another_account_writes_nothing(server: LiveServer) -> None:
    account, _, owner_key = new_account(server)
    other, _, other_key = new_account(server)
    theirs = (
        groups_client(server, other_key)
        .create_access_group(account_id=other, name="theirs")
        .get_result()
    )
    um = users_client(server, owner_key)
    email = f"hal.{uuid.uuid4().hex[:6]}@example.com"
    with pytest.raises(ApiException) as refused:
        um.invite_users(
            account_id=account,
            users=[{"email": email, "account_role": "Member"}],
            access_groups=[theirs["id"]],
        )
    # The other account's group is not one of this account's: like a missing group.
    assert refused.value.code == 400 and theirs["id"] in refused.value.message
    listed = um.list_users(account_id=account).get_result()["resources"]
    assert email not in [u["email"] for u in listed]


def test_a_deleted_profile_leaves_its_groups(server: LiveServer) -> None:
    account, _, owner_key = new_account(server)
    iam = identity_client(server, owner_key)
    profile = iam.create_profile(name="ci", account_id=account).get_result()
    groups = groups_client(server, owner_key)
    group = groups.create_access_group(account_id=account, name="ci-group").get_result()
    added = groups.add_members_to_access_group(
        access_group_id=group["id"], members=[{"iam_id": profile["iam_id"], "type": "profile"}]
    )
    assert added.get_status_code() == 207
    assert (
        groups.is_member_of_access_group(
            access_group_id=group["id"], iam_id=profile["iam_id"]
        ).get_status_code()
        == 204
    )

    iam.delete_profile(profile_id=profile["id"])
    with pytest.raises(ApiException) as gone:
        groups.is_member_of_access_group(access_group_id=group["id"], iam_id=profile["iam_id"])
    assert gone.value.code == 404
