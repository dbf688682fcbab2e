"""The official `IamAccessGroupsV2` (with `IAMAuthenticator`) against a live server on loopback,
on SQLite and PostgreSQL: what IBM's own integration test checks (spec §13), plus pagers, stale
entity tags, 404s that name the missing id, and the built-in Public Access group."""

from __future__ import annotations

import random
import uuid

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamAccessGroupsV2
from ibm_platform_services.iam_access_groups_v2 import (
    AccessGroupMembersPager,
    AccessGroupsPager,
    AccountSettings,
    AddGroupMembersRequestMembersItem,
    AddGroupMembersResponse,
    AddMembershipMultipleGroupsResponse,
    DeleteFromAllGroupsResponse,
    DeleteGroupBulkMembersResponse,
    Group,
    GroupMembersList,
    GroupsList,
    Rule,
    RuleConditions,
    RulesList,
)

from strongroom.testing.server import LiveServer

PUBLIC = "AccessGroupId-PublicAccess"


@pytest.fixture
def ag(server: LiveServer) -> IamAccessGroupsV2:
    client = IamAccessGroupsV2(authenticator=IAMAuthenticator(server.apikey, url=server.url))
    client.set_service_url(server.url)
    client.enable_retries()
    return client


def user() -> str:
    return "IBMid-" + str(random.randint(0, 99_999))


def new_group(ag: IamAccessGroupsV2, server: LiveServer, **kw: str) -> Group:
    name = kw.pop("name", f"SDK group {uuid.uuid4().hex[:8]}")
    response = ag.create_access_group(account_id=server.account_id, name=name, **kw)
    assert response.get_status_code() == 201
    return Group.from_dict(response.get_result())


def test_group_lifecycle_with_entity_tags(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    group = new_group(ag, server)
    assert group.account_id == server.account_id and group.id.startswith("AccessGroupId-")
    got = ag.get_access_group(access_group_id=group.id)
    assert got.get_status_code() == 200
    read = Group.from_dict(got.get_result())
    assert read.description == "" and read.name == group.name
    etag = got.get_headers()["ETag"]
    updated = ag.update_access_group(
        access_group_id=group.id, if_match=etag, description="for the integration test"
    )
    assert Group.from_dict(updated.get_result()).description == "for the integration test"
    assert updated.get_headers()["ETag"] != etag
    with pytest.raises(ApiException) as stale:
        ag.update_access_group(access_group_id=group.id, if_match=etag, name="other")
    assert stale.value.code == 412
    listed = GroupsList.from_dict(
        ag.list_access_groups(account_id=server.account_id, hide_public_access=True).get_result()
    )
    assert group.id in {g.id for g in listed.groups}
    assert PUBLIC not in {g.id for g in listed.groups}
    assert ag.delete_access_group(access_group_id=group.id).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        ag.get_access_group(access_group_id=group.id)
    assert gone.value.code == 404 and group.id in gone.value.message


def test_members_the_way_ibms_test_adds_and_removes_them(
    ag: IamAccessGroupsV2, server: LiveServer
) -> None:
    group = new_group(ag, server)
    someone = user()
    added = ag.add_members_to_access_group(
        access_group_id=group.id,
        members=[AddGroupMembersRequestMembersItem(iam_id=someone, type="user")],
    )
    assert added.get_status_code() == 207
    (member,) = AddGroupMembersResponse.from_dict(added.get_result()).members
    assert (member.iam_id, member.type, member.status_code) == (someone, "user", 200)
    assert member.trace and member.created_by_id == server.iam_id
    again = ag.add_member_to_multiple_access_groups(
        account_id=server.account_id, iam_id=someone, type="user", groups=[group.id]
    )
    assert again.get_status_code() == 207
    result = AddMembershipMultipleGroupsResponse.from_dict(again.get_result())
    assert [(g.access_group_id, g.status_code) for g in result.groups] == [(group.id, 200)]
    check = ag.is_member_of_access_group(access_group_id=group.id, iam_id=someone)
    assert check.get_status_code() == 204 and check.get_result() is None
    members = GroupMembersList.from_dict(
        ag.list_access_group_members(access_group_id=group.id).get_result()
    )
    assert [(m.iam_id, m.membership_type) for m in members.members] == [(someone, "static")]
    assert members.total_count == 1
    assert (
        ag.remove_member_from_access_group(
            access_group_id=group.id, iam_id=someone
        ).get_status_code()
        == 204
    )
    with pytest.raises(ApiException) as absent:
        ag.is_member_of_access_group(access_group_id=group.id, iam_id=someone)
    assert absent.value.code == 404
    with pytest.raises(ApiException) as nowhere:
        ag.remove_member_from_all_access_groups(account_id=server.account_id, iam_id=someone)
    assert nowhere.value.code == 404 and someone in nowhere.value.message
    with pytest.raises(ApiException) as none:
        ag.remove_members_from_access_group(access_group_id=group.id, members=[someone])
    assert none.value.code == 404 and group.id in none.value.message


def test_bulk_remove_and_remove_from_all_answer_per_item(
    ag: IamAccessGroupsV2, server: LiveServer
) -> None:
    first, second = new_group(ag, server), new_group(ag, server)
    a, b = user() + "a", user() + "b"
    for group in (first, second):
        ag.add_members_to_access_group(
            access_group_id=group.id,
            members=[{"iam_id": a, "type": "user"}, {"iam_id": b, "type": "user"}],
        )
    bulk = ag.remove_members_from_access_group(
        access_group_id=first.id, members=[a, "IBMid-notamember"]
    )
    assert bulk.get_status_code() == 207
    result = DeleteGroupBulkMembersResponse.from_dict(bulk.get_result())
    assert result.access_group_id == first.id
    assert {m.iam_id: m.status_code for m in result.members} == {a: 200, "IBMid-notamember": 404}
    everywhere = ag.remove_member_from_all_access_groups(account_id=server.account_id, iam_id=b)
    assert everywhere.get_status_code() == 207
    removed = DeleteFromAllGroupsResponse.from_dict(everywhere.get_result())
    assert removed.iam_id == b
    assert {g.access_group_id for g in removed.groups} == {first.id, second.id}
    assert all(g.status_code == 200 for g in removed.groups)
    left = ag.list_access_group_members(access_group_id=second.id).get_result()
    assert [m["iam_id"] for m in left["members"]] == [a]


def test_deleting_a_group_with_members_needs_force(
    ag: IamAccessGroupsV2, server: LiveServer
) -> None:
    group = new_group(ag, server)
    ag.add_members_to_access_group(
        access_group_id=group.id, members=[{"iam_id": user(), "type": "user"}]
    )
    with pytest.raises(ApiException) as refused:
        ag.delete_access_group(access_group_id=group.id)
    assert refused.value.code == 409 and "force" in refused.value.message
    assert ag.delete_access_group(access_group_id=group.id, force=True).get_status_code() == 204


def test_rules_crud(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    group = new_group(ag, server)
    created = ag.add_access_group_rule(
        access_group_id=group.id,
        expiration=24,
        realm_name="test realm name",
        conditions=[RuleConditions("test claim", "EQUALS", "1")],
        name="engineers",
    )
    assert created.get_status_code() == 201
    rule = Rule.from_dict(created.get_result())
    assert (rule.account_id, rule.access_group_id, rule.expiration) == (
        server.account_id,
        group.id,
        24,
    )
    assert rule.conditions == [RuleConditions("test claim", "EQUALS", "1")]
    got = ag.get_access_group_rule(access_group_id=group.id, rule_id=rule.id)
    etag = got.get_headers()["ETag"]
    assert Rule.from_dict(got.get_result()).id == rule.id
    listed = RulesList.from_dict(ag.list_access_group_rules(access_group_id=group.id).get_result())
    assert [r.id for r in listed.rules] == [rule.id]
    replaced = ag.replace_access_group_rule(
        access_group_id=group.id,
        rule_id=rule.id,
        if_match=etag,
        expiration=12,
        realm_name="updated test realm name",
        conditions=[RuleConditions("groups", "CONTAINS", '"admins"')],
    )
    assert replaced.get_status_code() == 200
    assert Rule.from_dict(replaced.get_result()).realm_name == "updated test realm name"
    with pytest.raises(ApiException) as stale:
        ag.replace_access_group_rule(
            access_group_id=group.id,
            rule_id=rule.id,
            if_match=etag,
            expiration=1,
            realm_name="r",
            conditions=[RuleConditions("c", "EQUALS", "1")],
        )
    assert stale.value.code == 412
    shown = ag.get_access_group(access_group_id=group.id, show_federated=True).get_result()
    assert shown["is_federated"] is True
    removed = ag.remove_access_group_rule(access_group_id=group.id, rule_id=rule.id)
    assert removed.get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        ag.get_access_group_rule(access_group_id=group.id, rule_id=rule.id)
    assert gone.value.code == 404 and rule.id in gone.value.message
    ag.delete_access_group(access_group_id=group.id, force=True)


def test_account_settings(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    got = ag.get_account_settings(account_id=server.account_id)
    settings = AccountSettings.from_dict(got.get_result())
    assert settings.account_id == server.account_id and settings.public_access_enabled is True
    same = ag.update_account_settings(
        account_id=server.account_id, public_access_enabled=settings.public_access_enabled
    )
    assert same.get_status_code() == 200
    result = AccountSettings.from_dict(same.get_result())
    assert result.public_access_enabled is True and result.last_modified_by_id == server.iam_id


def test_the_public_access_group_is_built_in(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    public = Group.from_dict(ag.get_access_group(access_group_id=PUBLIC).get_result())
    assert (public.name, public.account_id) == ("Public Access", server.account_id)
    listed = ag.list_access_groups(account_id=server.account_id).get_result()
    assert PUBLIC in [g["id"] for g in listed["groups"]]
    with pytest.raises(ApiException) as undeletable:
        ag.delete_access_group(access_group_id=PUBLIC, force=True)
    assert undeletable.value.code == 400
    with pytest.raises(ApiException) as no_members:
        ag.add_members_to_access_group(
            access_group_id=PUBLIC, members=[{"iam_id": user(), "type": "user"}]
        )
    assert no_members.value.code == 400


def test_pagers_walk_every_page(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    made = {new_group(ag, server, name=f"paged {tag} {n}").id for n in range(5)}
    pager = AccessGroupsPager(
        client=ag, account_id=server.account_id, search=f"name:paged {tag}", limit=2
    )
    pages = []
    while pager.has_next():
        pages.append(pager.get_next())
    assert [len(p) for p in pages] == [2, 2, 1]
    assert {g["id"] for p in pages for g in p} == made
    group = sorted(made)[0]
    ag.add_members_to_access_group(
        access_group_id=group,
        members=[{"iam_id": f"IBMid-pg{n}", "type": "user"} for n in range(3)],
    )
    members = AccessGroupMembersPager(client=ag, access_group_id=group, limit=2).get_all()
    assert [m["iam_id"] for m in members] == ["IBMid-pg0", "IBMid-pg1", "IBMid-pg2"]
    for group_id in made:
        ag.delete_access_group(access_group_id=group_id, force=True)


def test_groups_of_a_member(ag: IamAccessGroupsV2, server: LiveServer) -> None:
    group = new_group(ag, server)
    someone = user() + "m"
    ag.add_members_to_access_group(
        access_group_id=group.id, members=[{"iam_id": someone, "type": "user"}]
    )
    mine = ag.list_access_groups(
        account_id=server.account_id, iam_id=someone, hide_public_access=True
    ).get_result()
    assert [g["id"] for g in mine["groups"]] == [group.id]
    ag.delete_access_group(access_group_id=group.id, force=True)
