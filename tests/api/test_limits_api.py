"""Account limits over HTTP on SQLite and PostgreSQL (limits.yaml; reliability.md §4, C7): at
each limit's edge, limit-1 and limit are created, limit+1 is IBM's 422 in its API family's
envelope naming the limit, and the refused create writes nothing. The server runs with the
limits scaled down through the `limits` setting (STRONGROOM_LIMITS__<NAME>)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.limits_helpers import Tenant, is_quota_refusal, new_tenant, policy
from tests.conftest import SERVER_BACKENDS, start_server

LIMITS = {
    "policies_per_account": 30,
    "policies_per_subject": 4,
    "access_groups_per_account": 6,
    "access_groups_per_member": 3,
    "rules_per_access_group": 3,
    "service_ids_per_account": 5,
    "profiles_per_account": 4,
    "custom_roles_per_account": 3,
    "api_keys_per_identity": 4,
}


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        yield start_server(
            request.param,
            str(tmp_path_factory.mktemp("limits")),
            stack,
            settings_overrides={"limits": LIMITS},
        )


@pytest.fixture
def tenant(limited: LiveServer) -> Iterator[Tenant]:
    with httpx.Client(base_url=limited.url, timeout=30) as http:
        yield new_tenant(limited, http)


def at_the_edge(tenant: Tenant, kind: str, limit_name: str, path: str, parent: str = "") -> None:
    """Fill `kind` to its limit - 2 through the API; then limit - 1 and limit succeed and
    limit + 1 is refused with the quota error, leaving the count at the limit."""
    limit = LIMITS[limit_name]
    for _ in range(limit - 2 - tenant.count(kind, parent)):
        made = tenant.create(kind, parent)
        assert made.is_success, made.text
    assert tenant.count(kind, parent) == limit - 2
    for n in (limit - 1, limit):
        made = tenant.create(kind, parent)
        assert made.is_success, made.text
        assert tenant.count(kind, parent) == n
    refused = tenant.create(kind, parent)
    assert is_quota_refusal(refused, path, limit_name), refused.text
    assert str(limit) in refused.json()["errors"][0]["message"]
    assert tenant.count(kind, parent) == limit


def test_policies_per_account(tenant: Tenant) -> None:
    at_the_edge(tenant, "policies", "policies_per_account", "/v2/policies")
    refused = tenant.create("policies")
    message = refused.json()["errors"][0]["message"]
    assert message.startswith("Exceeded maximum policies quota"), message  # reliability.md §1
    # The count is of active policies: a deleted one frees room, and restoring it when the
    # room is taken again is refused like a create.
    policies = tenant.http.get(
        "/v2/policies", params={"account_id": tenant.account, "limit": 100}, headers=tenant.headers
    ).json()["policies"]
    listed = next(p for p in policies if p["subject"]["attributes"][0]["value"] != tenant.owner)
    gone = tenant.http.delete(f"/v2/policies/{listed['id']}", headers=tenant.headers)
    assert gone.status_code == 204, gone.text
    assert tenant.create("policies").status_code == 201
    deleted = tenant.http.get(f"/v1/policies/{listed['id']}", headers=tenant.headers)
    restored = tenant.http.patch(
        f"/v1/policies/{listed['id']}",
        json={"state": "active"},
        headers={**tenant.headers, "If-Match": deleted.headers["ETag"]},
    )
    assert is_quota_refusal(restored, "/v1/policies", "policies_per_account"), restored.text
    assert tenant.count("policies") == LIMITS["policies_per_account"]
    assert (
        tenant.http.get(f"/v1/policies/{listed['id']}", headers=tenant.headers).json()["state"]
        == "deleted"
    )


def test_policies_per_subject(tenant: Tenant) -> None:
    at_the_edge(tenant, "subject_policies", "policies_per_subject", "/v2/policies", "IBMid-ONE")
    # Another subject in the same account still has room, but cannot be moved onto the full one.
    other = tenant.create("subject_policies", "IBMid-TWO")
    assert other.status_code == 201
    moved = tenant.http.put(
        f"/v2/policies/{other.json()['id']}",
        json=policy("IBMid-ONE", tenant.account),
        headers={**tenant.headers, "If-Match": other.headers["ETag"]},
    )
    assert is_quota_refusal(moved, "/v2/policies", "policies_per_subject"), moved.text
    assert tenant.count("subject_policies", "IBMid-ONE") == LIMITS["policies_per_subject"]
    assert tenant.count("subject_policies", "IBMid-TWO") == 1


def test_custom_roles_per_account(tenant: Tenant) -> None:
    at_the_edge(tenant, "roles", "custom_roles_per_account", "/v2/roles")


def test_access_groups_per_account(tenant: Tenant) -> None:
    at_the_edge(tenant, "groups", "access_groups_per_account", "/v2/groups")


def test_access_groups_per_member(tenant: Tenant) -> None:
    member = "IBMid-BUSY0001"
    at_the_edge(tenant, "memberships", "access_groups_per_member", "/v2/groups", member)
    # Through `_allgroups` the answer is per group (207): the full member's group says 422.
    spare = tenant.create("groups").json()["id"]
    joined = tenant.http.put(
        f"/v2/groups/_allgroups/members/{member}",
        params={"account_id": tenant.account},
        json={"type": "user", "groups": [spare]},
        headers=tenant.headers,
    )
    assert joined.status_code == 207, joined.text
    (outcome,) = joined.json()["groups"]
    assert outcome["status_code"] == 422 and outcome["access_group_id"] == spare, outcome
    assert "access_groups_per_member" in outcome["errors"][0]["message"]
    assert tenant.count("memberships", member) == LIMITS["access_groups_per_member"]


def test_rules_per_access_group(tenant: Tenant) -> None:
    group = tenant.create("groups").json()["id"]
    at_the_edge(tenant, "rules", "rules_per_access_group", "/v2/groups", group)


def test_service_ids_per_account(tenant: Tenant) -> None:
    at_the_edge(tenant, "service_ids", "service_ids_per_account", "/v1/serviceids")


def test_profiles_per_account(tenant: Tenant) -> None:
    at_the_edge(tenant, "profiles", "profiles_per_account", "/v1/profiles")


def test_api_keys_per_identity(tenant: Tenant) -> None:
    # The owner (one key from the account's creation) and a service ID each hold the limit.
    at_the_edge(tenant, "api_keys", "api_keys_per_identity", "/v1/apikeys")
    sid = tenant.create("service_ids").json()["iam_id"]
    at_the_edge(tenant, "api_keys", "api_keys_per_identity", "/v1/apikeys", sid)
