"""Account limits through IBM's official SDKs (platform-services IamPolicyManagementV1,
IamIdentityV1, IamAccessGroupsV2) on SQLite and PostgreSQL: a create past a limit raises
`ApiException` with status 422 and IBM's message, exactly as the SDK reports it to its caller
(limits.yaml; reliability.md §1 "Exceeded maximum policies quota", §4, C7). The server runs with
the limits scaled down through the `limits` setting."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamAccessGroupsV2, IamIdentityV1, IamPolicyManagementV1
from ibm_platform_services.iam_access_groups_v2 import RuleConditions
from ibm_platform_services.iam_policy_management_v1 import (
    Control,
    Grant,
    PolicyRole,
    V2PolicyResource,
    V2PolicyResourceAttribute,
    V2PolicySubject,
    V2PolicySubjectAttribute,
)

from strongroom.testing.server import LiveServer
from tests.conftest import SERVER_BACKENDS, start_server

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
LIMITS = {
    "policies_per_account": 12,
    "custom_roles_per_account": 2,
    "access_groups_per_account": 3,
    "rules_per_access_group": 2,
    "service_ids_per_account": 3,
    "profiles_per_account": 2,
    "api_keys_per_identity": 3,
}


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        yield start_server(
            request.param,
            str(tmp_path_factory.mktemp("limits-sdk")),
            stack,
            settings_overrides={"limits": LIMITS},
        )


def client(kind: Any, server: LiveServer) -> Any:
    made = kind(authenticator=IAMAuthenticator(server.apikey, url=server.url))
    made.set_service_url(server.url)
    return made


def fill_then_refused(create: Callable[[], Any], room: int, limit_name: str) -> ApiException:
    """`room` creates succeed; the next raises the SDK's ApiException, which is returned."""
    for _ in range(room):
        assert create().get_status_code() == 201
    with pytest.raises(ApiException) as refused:
        create()
    assert refused.value.code == 422, refused.value
    assert f"`{limit_name}`" in str(refused.value.message)
    return refused.value


def test_policy_management_reports_the_policies_quota(limited: LiveServer) -> None:
    pm: IamPolicyManagementV1 = client(IamPolicyManagementV1, limited)

    def create() -> Any:
        return pm.create_v2_policy(
            type="access",
            subject=V2PolicySubject(
                attributes=[
                    V2PolicySubjectAttribute(
                        key="iam_id", operator="stringEquals", value=f"IBMid-{uuid.uuid4().hex}"
                    )
                ]
            ),
            control=Control(grant=Grant(roles=[PolicyRole(role_id=VIEWER)])),
            resource=V2PolicyResource(
                attributes=[
                    V2PolicyResourceAttribute(
                        key="accountId", operator="stringEquals", value=limited.account_id
                    ),
                    V2PolicyResourceAttribute(
                        key="serviceName", operator="stringEquals", value="kms"
                    ),
                ]
            ),
        )

    with limited.runtime.uow() as uow:
        held = uow.policies.count_active(limited.account_id)
    room = LIMITS["policies_per_account"] - held
    refused = fill_then_refused(create, room, "policies_per_account")
    assert str(refused.message).startswith("Exceeded maximum policies quota")

    def role() -> Any:
        return pm.create_role(
            name="Limit" + uuid.uuid4().hex[:8].upper().replace("0", "X"),
            account_id=limited.account_id,
            service_name="iam-groups",
            display_name="limit",
            actions=["iam-groups.groups.read"],
        )

    fill_then_refused(role, LIMITS["custom_roles_per_account"], "custom_roles_per_account")


def test_access_groups_report_the_group_and_rule_limits(limited: LiveServer) -> None:
    ag: IamAccessGroupsV2 = client(IamAccessGroupsV2, limited)

    def group() -> Any:
        return ag.create_access_group(
            account_id=limited.account_id, name=f"limit {uuid.uuid4().hex[:8]}"
        )

    first = group().get_result()["id"]
    fill_then_refused(group, LIMITS["access_groups_per_account"] - 1, "access_groups_per_account")

    def rule() -> Any:
        return ag.add_access_group_rule(
            access_group_id=first,
            expiration=12,
            realm_name="https://idp.example.com",
            conditions=[RuleConditions("groups", "EQUALS", '"admins"')],
        )

    fill_then_refused(rule, LIMITS["rules_per_access_group"], "rules_per_access_group")


def test_iam_identity_reports_service_id_profile_and_api_key_limits(limited: LiveServer) -> None:
    iam: IamIdentityV1 = client(IamIdentityV1, limited)

    def service_id() -> Any:
        return iam.create_service_id(
            account_id=limited.account_id, name=f"limit {uuid.uuid4().hex[:8]}"
        )

    sid = service_id().get_result()["iam_id"]
    fill_then_refused(service_id, LIMITS["service_ids_per_account"] - 1, "service_ids_per_account")

    def profile() -> Any:
        return iam.create_profile(
            account_id=limited.account_id, name=f"limit {uuid.uuid4().hex[:8]}"
        )

    fill_then_refused(profile, LIMITS["profiles_per_account"], "profiles_per_account")

    def api_key() -> Any:
        return iam.create_api_key(name=f"limit {uuid.uuid4().hex[:8]}", iam_id=sid)

    fill_then_refused(api_key, LIMITS["api_keys_per_identity"], "api_keys_per_identity")
    listed = iam.list_api_keys(account_id=limited.account_id, iam_id=sid).get_result()
    assert len(listed["apikeys"]) == LIMITS["api_keys_per_identity"]
