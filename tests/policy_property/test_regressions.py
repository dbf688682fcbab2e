"""Disagreements the differential test found between production and the reference, shrunk to
the smallest case and kept here (reliability.md C1: "Shrunk counterexamples are committed as
regression cases"). A case that is a production bug is marked `xfail(strict=True)` until the
engine is fixed; the strict marker then turns the fix into a failure that asks for the marker
to go, so the case stays as a plain regression test.
"""

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
)
from strongroom.policy.compile import CustomRole
from tests.policy_property import reference
from tests.policy_property.worlds import build_catalog

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
# Viewer grants kms.key.list on kms, nothing elsewhere; kms is a `service` in the catalog.
CATALOG = build_catalog({("kms", VIEWER): 0b1})
WHEN = datetime(2026, 3, 13, 5, 11, tzinfo=UTC)


def _viewer_on_kind(kind: str) -> Policy:
    return Policy(
        id="p0",
        account_id="acct0",
        type="access",
        subject=(Condition("iam_id", "stringEquals", "IBMid-user0"),),
        resource=(
            Condition("accountId", "stringEquals", "acct0"),
            Condition("serviceType", "stringEquals", kind),
        ),
        roles=(VIEWER,),
    )


def _kms_key_list(declared_kind: str | None) -> Request:
    resource = {"accountId": "acct0", "serviceName": "kms"}
    if declared_kind is not None:
        resource["serviceType"] = declared_kind
    return Request(Subject(iam_id="IBMid-user0"), "kms.key.list", resource, WHEN)


def test_catalog_and_declared_kind_agree() -> None:
    """The control: without a contradicting claim both sides decide alike."""
    request = _kms_key_list(None)
    for kind, permitted in (("service", True), ("platform_service", False)):
        policy = _viewer_on_kind(kind)
        got = decide(request, compile_policies([policy], CATALOG))
        assert got.permitted is permitted
        assert reference.permits([policy], [], CATALOG, request) is permitted


# Found by the differential test: production once let a resource's own `serviceType`
# attribute override the catalog; model.py says the catalog says which kind each service is.


def test_a_claimed_service_type_does_not_open_platform_policies_to_a_service() -> None:
    """Fail-open half: `Viewer on all account management services` must not grant kms.key.list
    on a kms key because the request says the key is a `platform_service`."""
    policy = _viewer_on_kind("platform_service")
    request = _kms_key_list("platform_service")
    assert reference.permits([policy], [], CATALOG, request) is False
    assert decide(request, compile_policies([policy], CATALOG)).permitted is False


def test_a_claimed_service_type_does_not_hide_a_service_from_service_policies() -> None:
    """Fail-closed half, the case Hypothesis shrank to: `Viewer on all IAM-enabled services`
    grants kms.key.list on kms even when the request calls kms a `platform_service`."""
    policy = _viewer_on_kind("service")
    request = _kms_key_list("platform_service")
    assert reference.permits([policy], [], CATALOG, request) is True
    assert decide(request, compile_policies([policy], CATALOG)).permitted is True


def test_a_declared_kind_counts_for_a_service_the_catalog_does_not_know() -> None:
    """Both sides agree here: for an unknown service the resource's declaration is all there is
    (and a role can grant nothing there anyway unless it is a custom role)."""
    custom = CustomRole(
        crn="crn:v1:bluemix:public:iam-access-management::a/acct0::customRole:Runner",
        account_id="acct0",
        service="toolchain",
        actions=frozenset({"toolchain.pipeline.run"}),
    )
    policy = Policy(
        id="p0",
        account_id="acct0",
        type="access",
        subject=(Condition("iam_id", "stringEquals", "IBMid-user0"),),
        resource=(
            Condition("accountId", "stringEquals", "acct0"),
            Condition("serviceType", "stringEquals", "service"),
        ),
        roles=(custom.crn,),
    )
    request = Request(
        Subject(iam_id="IBMid-user0"),
        "toolchain.pipeline.run",
        {"accountId": "acct0", "serviceName": "toolchain", "serviceType": "service"},
        WHEN,
    )
    got = decide(request, compile_policies([policy], CATALOG, [custom]))
    assert got.permitted is True
    assert reference.permits([policy], [custom], CATALOG, request) is True


def test_a_custom_role_on_a_service_no_catalog_defines_grants_its_actions() -> None:
    """Found by the differential test: a policy naming a service that only custom roles define
    filed its grants as empty, so its custom role's actions were denied."""
    account = "acct0"
    role = CustomRole(
        crn=f"crn:v1:bluemix:public:iam-access-management::a/{account}::customRole:Pipelines",
        account_id=account,
        service="toolchain",
        actions=frozenset({"toolchain.pipeline.read"}),
    )
    policy = Policy(
        id="p1",
        account_id=account,
        type="access",
        subject=(Condition("access_group_id", "stringEquals", "AccessGroup-4"),),
        resource=(
            Condition("accountId", "stringEquals", account),
            Condition("serviceName", "stringEquals", "toolchain"),
            Condition("resourceGroupId", "stringEquals", "rg-2"),
        ),
        roles=(role.crn,),
    )
    request = Request(
        Subject(iam_id="iam-ServiceId-3", access_groups=frozenset({"AccessGroup-4"})),
        "toolchain.pipeline.read",
        {"accountId": account, "resourceGroupId": "rg-2", "serviceName": "toolchain"},
        datetime(2026, 3, 8, 17, 46, tzinfo=UTC),
    )
    decision = decide(request, compile_policies([policy], load_catalog(), [role]))
    assert decision.permitted and decision.policies == ("p1",)
