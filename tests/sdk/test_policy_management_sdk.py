"""The official `IamPolicyManagementV1` (with `IAMAuthenticator`) against a live server on
loopback, on SQLite and PostgreSQL: what IBM's own integration test checks (spec §13), plus
pagination, state restore, stale entity tags and custom roles in use."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamPolicyManagementV1
from ibm_platform_services.iam_policy_management_v1 import (
    Control,
    CustomRole,
    Grant,
    PoliciesPager,
    Policy,
    PolicyCollection,
    PolicyResource,
    PolicyRole,
    PolicySubject,
    ResourceAttribute,
    ResourceTag,
    RoleCollection,
    RuleAttribute,
    SubjectAttribute,
    V2Policy,
    V2PolicyCollection,
    V2PolicyResource,
    V2PolicyResourceAttribute,
    V2PolicyResourceTag,
    V2PolicyRuleRuleWithNestedConditions,
    V2PolicySubject,
    V2PolicySubjectAttribute,
)

from strongroom.testing.server import LiveServer

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
EDITOR = "crn:v1:bluemix:public:iam::::role:Editor"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
SERVICE_ID_CREATOR = "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"
WEEKDAYS = "time-based-conditions:weekly:custom-hours"


@pytest.fixture
def pm(server: LiveServer) -> IamPolicyManagementV1:
    client = IamPolicyManagementV1(authenticator=IAMAuthenticator(server.apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def user_id() -> str:
    return "IBMid-Py" + str(random.randint(0, 99_999_999))


def v1_subject(iam_id: str) -> PolicySubject:
    return PolicySubject(attributes=[SubjectAttribute(name="iam_id", value=iam_id)])


def v1_resource(account_id: str) -> PolicyResource:
    return PolicyResource(
        attributes=[
            ResourceAttribute(name="accountId", value=account_id, operator="stringEquals"),
            ResourceAttribute(name="serviceType", value="service", operator="stringEquals"),
        ],
        tags=[ResourceTag(name="project", value="prototype", operator="stringEquals")],
    )


def v2_subject(iam_id: str) -> V2PolicySubject:
    return V2PolicySubject(
        attributes=[V2PolicySubjectAttribute(key="iam_id", value=iam_id, operator="stringEquals")]
    )


def v2_resource(account_id: str) -> V2PolicyResource:
    return V2PolicyResource(
        attributes=[
            V2PolicyResourceAttribute(key="accountId", value=account_id, operator="stringEquals"),
            V2PolicyResourceAttribute(key="serviceType", value="service", operator="stringEquals"),
        ],
        tags=[V2PolicyResourceTag(key="project", value="prototype", operator="stringEquals")],
    )


def business_hours() -> V2PolicyRuleRuleWithNestedConditions:
    return V2PolicyRuleRuleWithNestedConditions(
        operator="and",
        conditions=[
            RuleAttribute(
                key="{{environment.attributes.day_of_week}}",
                operator="dayOfWeekAnyOf",
                value=["1+00:00", "2+00:00", "3+00:00", "4+00:00", "5+00:00"],
            ),
            RuleAttribute(
                key="{{environment.attributes.current_time}}",
                operator="timeGreaterThanOrEquals",
                value="09:00:00+00:00",
            ),
            RuleAttribute(
                key="{{environment.attributes.current_time}}",
                operator="timeLessThanOrEquals",
                value="17:00:00+00:00",
            ),
        ],
    )


def create_v1(pm: IamPolicyManagementV1, server: LiveServer, iam_id: str) -> dict[str, Any]:
    response = pm.create_policy(
        type="access",
        subjects=[v1_subject(iam_id)],
        roles=[PolicyRole(role_id=VIEWER)],
        resources=[v1_resource(server.account_id)],
    )
    assert response.get_status_code() == 201
    result: dict[str, Any] = response.get_result()
    return result


def create_v2(pm: IamPolicyManagementV1, server: LiveServer, iam_id: str) -> dict[str, Any]:
    response = pm.create_v2_policy(
        type="access",
        subject=v2_subject(iam_id),
        control=Control(grant=Grant(roles=[PolicyRole(role_id=VIEWER)])),
        resource=v2_resource(server.account_id),
    )
    assert response.get_status_code() == 201
    result: dict[str, Any] = response.get_result()
    return result


def test_v1_policy_lifecycle(server: LiveServer, pm: IamPolicyManagementV1) -> None:
    iam_id = user_id()
    created = Policy.from_dict(create_v1(pm, server, iam_id))
    # Exact echo, compared with the SDK's own models as IBM's test does (spec §1 fact 9).
    assert created.subjects[0] == v1_subject(iam_id)
    assert created.resources[0] == v1_resource(server.account_id)
    assert created.roles[0].role_id == VIEWER
    assert created.href == f"{server.url}/v1/policies/{created.id}"
    assert created.state == "active" and created.created_by_id == server.iam_id

    got = pm.get_policy(policy_id=created.id)
    read_tag = got.get_headers()["ETag"]
    assert Policy.from_dict(got.get_result()).resources[0] == v1_resource(server.account_id)

    replaced = pm.replace_policy(
        policy_id=created.id,
        if_match=read_tag,
        type="access",
        subjects=[v1_subject(iam_id)],
        roles=[PolicyRole(role_id=EDITOR)],
        resources=[v1_resource(server.account_id)],
    )
    assert replaced.get_status_code() == 200
    new_tag = replaced.get_headers().get("ETag")
    assert new_tag and new_tag != read_tag and new_tag.startswith("2-")
    body = Policy.from_dict(replaced.get_result())
    assert body.id == created.id and body.roles[0].role_id == EDITOR
    assert body.created_at == created.created_at

    # A stale tag is refused and changes nothing (spec §15: 412, as RFC 7232 answers).
    with pytest.raises(ApiException) as stale:
        pm.replace_policy(
            policy_id=created.id,
            if_match=read_tag,
            type="access",
            subjects=[v1_subject(iam_id)],
            roles=[PolicyRole(role_id=VIEWER)],
            resources=[v1_resource(server.account_id)],
        )
    assert stale.value.code == 412
    assert pm.get_policy(policy_id=created.id).get_result()["roles"][0]["role_id"] == EDITOR

    # IBM's test feeds the tag from the PUT into update_policy_state.
    patched = pm.update_policy_state(policy_id=created.id, if_match=new_tag, state="active")
    assert patched.get_status_code() == 200
    assert Policy.from_dict(patched.get_result()).state == "active"

    assert pm.delete_policy(policy_id=created.id).get_status_code() == 204
    deleted = pm.get_policy(policy_id=created.id)
    assert deleted.get_result()["state"] == "deleted"
    listed = pm.list_policies(account_id=server.account_id, iam_id=iam_id).get_result()
    assert listed["policies"] == []
    listed = pm.list_policies(account_id=server.account_id, iam_id=iam_id, state="deleted")
    assert [p["id"] for p in listed.get_result()["policies"]] == [created.id]

    # `active` restores a deleted policy (spec §6.1).
    restored = pm.update_policy_state(
        policy_id=created.id, if_match=deleted.get_headers()["ETag"], state="active"
    )
    assert restored.get_result()["state"] == "active"
    assert pm.delete_policy(policy_id=created.id).get_status_code() == 204


def test_v2_policy_with_a_time_based_rule(server: LiveServer, pm: IamPolicyManagementV1) -> None:
    iam_id = user_id()
    control = Control(grant=Grant(roles=[PolicyRole(role_id=VIEWER)]))
    response = pm.create_v2_policy(
        type="access",
        description="weekdays only",
        subject=v2_subject(iam_id),
        control=control,
        resource=v2_resource(server.account_id),
        pattern=WEEKDAYS,
        rule=business_hours(),
    )
    assert response.get_status_code() == 201
    created = V2Policy.from_dict(response.get_result())
    assert created.subject == v2_subject(iam_id)
    assert created.resource == v2_resource(server.account_id)
    assert created.rule == business_hours().to_dict()
    assert created.pattern == WEEKDAYS and created.description == "weekdays only"
    assert Control.from_dict(created.control).grant.roles[0].role_id == VIEWER
    assert created.href == f"{server.url}/v2/policies/{created.id}"

    got = pm.get_v2_policy(id=created.id)
    assert V2Policy.from_dict(got.get_result()).resource == v2_resource(server.account_id)
    tag = got.get_headers()["ETag"]

    control.grant.roles[0].role_id = EDITOR
    replaced = pm.replace_v2_policy(
        id=created.id,
        if_match=tag,
        type="access",
        subject=v2_subject(iam_id),
        control=control,
        resource=v2_resource(server.account_id),
        pattern=WEEKDAYS,
        rule=business_hours(),
    )
    body = V2Policy.from_dict(replaced.get_result())
    assert body.subject == v2_subject(iam_id) and body.resource == v2_resource(server.account_id)
    assert Control.from_dict(body.control).grant.roles[0].role_id == EDITOR
    assert body.description is None  # not sent this time, so not kept
    assert replaced.get_headers()["ETag"] != tag

    listed = pm.list_v2_policies(account_id=server.account_id, iam_id=iam_id).get_result()
    assert [p.id for p in V2PolicyCollection.from_dict(listed).policies] == [created.id]

    assert pm.delete_v2_policy(id=created.id).get_status_code() == 204
    assert pm.get_v2_policy(id=created.id).get_result()["state"] == "deleted"


def test_lists_show_both_families_and_page_with_start(
    server: LiveServer, pm: IamPolicyManagementV1
) -> None:
    iam_id = user_id()
    made = [create_v1(pm, server, iam_id) for _ in range(3)]
    made += [create_v2(pm, server, iam_id) for _ in range(2)]
    ids = {p["id"] for p in made}

    seen: list[dict[str, Any]] = []
    start = None
    while True:
        page = pm.list_policies(
            account_id=server.account_id, iam_id=iam_id, limit=2, start=start
        ).get_result()
        collection = PolicyCollection.from_dict(page)
        assert page["limit"] == 2 and page["first"]["href"].startswith(server.url)
        seen += page["policies"]
        if "next" not in page:
            break
        assert f"start={page['next']['start']}" in page["next"]["href"]
        start = collection.next.start
    assert {p["id"] for p in seen} == ids and len(seen) == 5
    # v1 lists v2 policies in v1 shape with their /v2/ href (spec §6.1, §13).
    for policy in seen:
        model = Policy.from_dict(policy)
        assert model.href and model.created_at
        family = "v2" if policy["id"] in {p["id"] for p in made[3:]} else "v1"
        assert f"/{family}/policies/{policy['id']}" in model.href
        assert model.subjects[0] == v1_subject(iam_id)

    pager = PoliciesPager(
        client=pm, account_id=server.account_id, iam_id=iam_id, limit=2, sort="-created_at"
    )
    assert {p["id"] for p in pager.get_all()} == ids

    v2_view = pm.list_v2_policies(account_id=server.account_id, iam_id=iam_id).get_result()
    for policy in V2PolicyCollection.from_dict(v2_view).policies:
        assert policy.subject == v2_subject(iam_id)  # v1 ones gain the implied stringEquals
        assert policy.resource == v2_resource(server.account_id)

    by_tag = pm.list_policies(
        account_id=server.account_id, iam_id=iam_id, tag_name="project", tag_value="prototype"
    )
    assert len(by_tag.get_result()["policies"]) == 5
    assert (
        pm.list_policies(
            account_id=server.account_id, iam_id=iam_id, tag_value="other"
        ).get_result()["policies"]
        == []
    )
    for policy in made:
        if "/v2/" in policy["href"]:
            assert pm.delete_v2_policy(id=policy["id"]).get_status_code() == 204
        else:
            assert pm.delete_policy(policy_id=policy["id"]).get_status_code() == 204


def test_custom_role_crud_and_use(server: LiveServer, pm: IamPolicyManagementV1) -> None:
    name = "TestPythonRole" + str(random.randint(0, 99_999))
    created = pm.create_role(
        name=name,
        account_id=server.account_id,
        service_name="iam-groups",
        display_name="SDK Test role",
        description="SDK Test role description ",
        actions=["iam-groups.groups.read"],
    )
    assert created.get_status_code() == 201
    role = CustomRole.from_dict(created.get_result())
    assert (role.name, role.account_id, role.service_name) == (
        name,
        server.account_id,
        "iam-groups",
    )
    assert role.actions == ["iam-groups.groups.read"]
    assert role.description == "SDK Test role description "
    assert role.crn == (
        f"crn:v1:ibmcloud:public:iam-access-management::a/{server.account_id}::customRole:{name}"
    )

    with pytest.raises(ApiException) as duplicate:
        pm.create_role(
            name=name,
            account_id=server.account_id,
            service_name="iam-groups",
            display_name="again",
            actions=["iam-groups.groups.read"],
        )
    assert duplicate.value.code == 409
    assert duplicate.value.http_response.json()["errors"][0]["code"] == "role_conflict_error"

    tag = pm.get_role(role_id=role.id).get_headers()["ETag"]
    updated = pm.replace_role(
        role_id=role.id,
        if_match=tag,
        display_name="Updated SDK Test role",
        description="Updated description",
        actions=["iam-groups.groups.read", "iam-groups.members.read"],
    )
    body = CustomRole.from_dict(updated.get_result())
    assert body.display_name == "Updated SDK Test role" and body.name == name
    assert body.actions == ["iam-groups.groups.read", "iam-groups.members.read"]

    listed = RoleCollection.from_dict(
        pm.list_roles(account_id=server.account_id, service_name="iam-groups").get_result()
    )
    assert role.id in [r.id for r in listed.custom_roles]

    # In use by a policy, it cannot be deleted; the refusal names the policy.
    policy = pm.create_v2_policy(
        type="access",
        subject=v2_subject(user_id()),
        control=Control(grant=Grant(roles=[PolicyRole(role_id=role.crn)])),
        resource=V2PolicyResource(
            attributes=[
                V2PolicyResourceAttribute(
                    key="accountId", value=server.account_id, operator="stringEquals"
                ),
                V2PolicyResourceAttribute(
                    key="serviceName", value="iam-groups", operator="stringEquals"
                ),
            ]
        ),
    ).get_result()
    with pytest.raises(ApiException) as in_use:
        pm.delete_role(role_id=role.id)
    assert in_use.value.code == 409 and policy["id"] in in_use.value.message
    assert pm.delete_v2_policy(id=policy["id"]).get_status_code() == 204
    assert pm.delete_role(role_id=role.id).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        pm.get_role(role_id=role.id)
    assert gone.value.code == 404 and role.id in gone.value.message


def test_list_roles_by_service_group_and_service(
    server: LiveServer, pm: IamPolicyManagementV1
) -> None:
    iam = RoleCollection.from_dict(
        pm.list_roles(account_id=server.account_id, service_group_id="IAM").get_result()
    )
    assert SERVICE_ID_CREATOR in [r.crn for r in iam.service_roles]
    assert [r.display_name for r in iam.system_roles] == [
        "Viewer",
        "Operator",
        "Editor",
        "Administrator",
    ]
    kms = pm.list_roles(service_name="kms").get_result()
    assert set(kms) == {"custom_roles", "service_roles", "system_roles"}
    viewer = next(r for r in kms["system_roles"] if r["crn"] == VIEWER)
    assert viewer["actions"] and all(a.startswith("kms.") for a in viewer["actions"])
    assert READER in [r["crn"] for r in kms["service_roles"]]
    with pytest.raises(ApiException) as both:
        pm.list_roles(service_name="kms", service_group_id="IAM")
    assert both.value.code == 400


def test_an_authorization_policy_on_v1(server: LiveServer, pm: IamPolicyManagementV1) -> None:
    instance = str(uuid.uuid4())
    response = pm.create_policy(
        type="authorization",
        subjects=[
            PolicySubject(
                attributes=[
                    SubjectAttribute(name="accountId", value=server.account_id),
                    SubjectAttribute(name="serviceName", value="cloud-object-storage"),
                    SubjectAttribute(name="serviceInstance", value=instance),
                ]
            )
        ],
        roles=[PolicyRole(role_id=READER)],
        resources=[
            PolicyResource(
                attributes=[
                    ResourceAttribute(name="accountId", value=server.account_id),
                    ResourceAttribute(name="serviceName", value="kms"),
                ]
            )
        ],
    )
    assert response.get_status_code() == 201
    policy = Policy.from_dict(response.get_result())
    assert policy.type == "authorization"
    assert policy.subjects[0].attributes[2].value == instance
    assert policy.resources[0].attributes[1].operator is None  # nothing added
    listed = pm.list_policies(account_id=server.account_id, type="authorization").get_result()
    assert policy.id in [p["id"] for p in listed["policies"]]
    assert pm.delete_policy(policy_id=policy.id).get_status_code() == 204


def test_missing_objects_name_their_id(server: LiveServer, pm: IamPolicyManagementV1) -> None:
    missing = str(uuid.uuid4())
    for call in (
        lambda: pm.get_policy(policy_id=missing),
        lambda: pm.get_v2_policy(id=missing),
        lambda: pm.delete_policy(policy_id=missing),
    ):
        with pytest.raises(ApiException) as error:
            call()
        assert error.value.code == 404 and missing in error.value.message
        assert error.value.http_response.json()["errors"][0]["code"] == "policy_not_found"
