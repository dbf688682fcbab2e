"""The index files policies by account and service; paths that ask `matches` directly (roles
held, explanations) must only see policies the index lets reach the resource."""

from __future__ import annotations

from datetime import UTC, datetime

from strongroom.policy import (
    Condition,
    Policy,
    Request,
    Subject,
    compile_policies,
    decide,
    load_catalog,
    roles_held,
)

ACCOUNT = "a" * 32
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
ADMIN = "crn:v1:bluemix:public:iam::::role:Administrator"
WHEN = datetime(2026, 1, 5, 10, tzinfo=UTC)


def on(service: str, role: str, policy_id: str, account: str = ACCOUNT) -> Policy:
    return Policy(
        id=policy_id,
        account_id=account,
        type="access",
        subject=(Condition("iam_id", "stringEquals", "IBMid-u"),),
        resource=(
            Condition("accountId", "stringEquals", account),
            Condition("serviceName", "stringEquals", service),
        ),
        roles=(role,),
    )


def request(service: str, action: str, account: str = ACCOUNT) -> Request:
    return Request(Subject("IBMid-u"), action, {"accountId": account, "serviceName": service}, WHEN)


def test_roles_held_on_one_service_do_not_leak_to_another() -> None:
    policies = compile_policies(
        [on("kms", VIEWER, "p-kms"), on("cloud-object-storage", ADMIN, "p-cos")], load_catalog()
    )
    assert roles_held(request("kms", ""), policies) == {VIEWER}
    assert roles_held(request("cloud-object-storage", ""), policies) == {ADMIN}
    assert roles_held(request("containers-kubernetes", ""), policies) == frozenset()
    assert roles_held(request("kms", "", account="b" * 32), policies) == frozenset()


def test_a_denial_names_only_the_roles_held_on_the_resource() -> None:
    policies = compile_policies(
        [on("kms", VIEWER, "p-kms"), on("cloud-object-storage", ADMIN, "p-cos")], load_catalog()
    )
    denied = decide(request("kms", "kms.secrets.create"), policies)
    assert not denied.permitted
    assert (
        "grants only Viewer" in denied.reason and "Administrator" not in denied.reason.split(";")[0]
    )
    elsewhere = decide(
        request("containers-kubernetes", "containers-kubernetes.cluster.list"), policies
    )
    assert "none matches this resource" in elsewhere.reason
