"""Policy Management over HTTP: bad input is refused with a 400 naming the field and nothing
stored; missing and foreign objects answer 404 with their id; seed 003 table 4 (only an
administrator of the target grants access to it); and a check right after an acknowledged
write on the same node sees that write, including the owner revoking its own access."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.api.test_enforcement import new_service_id
from tests.conftest import start_server

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
ADMINISTRATOR = "crn:v1:bluemix:public:iam::::role:Administrator"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"


def attribute(key: str, value: Any, operator: str = "stringEquals") -> dict[str, Any]:
    return {"key": key, "operator": operator, "value": value}


def v2_policy(
    account_id: str,
    iam_id: str,
    *,
    roles: tuple[str, ...] = (VIEWER,),
    service: str | None = "iam-identity",
    service_type: str | None = None,
) -> dict[str, Any]:
    resource = [attribute("accountId", account_id)]
    if service:
        resource.append(attribute("serviceName", service))
    if service_type:
        resource.append(attribute("serviceType", service_type))
    return {
        "type": "access",
        "subject": {"attributes": [attribute("iam_id", iam_id)]},
        "resource": {"attributes": resource},
        "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
    }


def as_bearer(http: httpx.Client, apikey: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(http, apikey)}"}


def policy_count(server: LiveServer, account_id: str | None = None) -> int:
    with server.runtime.uow() as uow:
        return uow.policies.count(account_id or server.account_id)


def message_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


def grant(http: httpx.Client, bearer: dict[str, str], body: dict[str, Any]) -> str:
    created = http.post("/v2/policies", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


# -- bad input ------------------------------------------------------------------------------------


def _unknown_role(doc: dict[str, Any]) -> None:
    doc["control"]["grant"]["roles"] = [{"role_id": "crn:v1:bluemix:public:iam::::role:Nobody"}]


def _malformed_crn(doc: dict[str, Any]) -> None:
    doc["control"]["grant"]["roles"] = [{"role_id": "not-a-crn"}]


def _unknown_operator(doc: dict[str, Any]) -> None:
    doc["resource"]["attributes"][1]["operator"] = "stringLike"


def _rule_without_pattern(doc: dict[str, Any]) -> None:
    doc["rule"] = attribute("{{environment.attributes.current_time}}", "09:00:00+00:00")
    doc["rule"]["operator"] = "timeGreaterThanOrEquals"


def _foreign_resource_account(doc: dict[str, Any]) -> None:
    doc["resource"]["attributes"][0]["value"] = "f" * 32


def _role_of_another_service(doc: dict[str, Any]) -> None:
    doc["control"]["grant"]["roles"] = [
        {"role_id": "crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus"}
    ]


def _no_service(doc: dict[str, Any]) -> None:
    del doc["resource"]["attributes"][1]


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (_unknown_role, ("control.grant.roles", "unknown role", "Nobody")),
        (_malformed_crn, ("control.grant.roles[0].role_id", "not-a-crn")),
        (_unknown_operator, ("resource.attributes[1].operator", "stringLike")),
        (_rule_without_pattern, ("pattern", "required")),
        (_foreign_resource_account, ("resource", "accountId")),
        (_role_of_another_service, ("control.grant.roles[0].role_id", "iam-identity")),
        (_no_service, ("resource.attributes", "serviceType")),
    ],
)
def test_bad_v2_policies_are_refused_naming_the_field(
    server: LiveServer,
    http: httpx.Client,
    bearer: dict[str, str],
    change: Any,
    fragments: tuple[str, ...],
) -> None:
    doc = v2_policy(server.account_id, "IBMid-BADINPUT1")
    change(doc)
    before = policy_count(server)
    refused = http.post("/v2/policies", json=doc, headers=bearer)
    assert refused.status_code == 400, refused.text
    assert code_of(refused) == "invalid_body"
    for fragment in fragments:
        assert fragment in message_of(refused), (fragment, message_of(refused))
    assert policy_count(server) == before


def test_bad_v1_and_authorization_policies_are_refused(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    before = policy_count(server)
    two_subjects = {
        "type": "access",
        "subjects": [{"attributes": [{"name": "iam_id", "value": "IBMid-A"}]}] * 2,
        "roles": [{"role_id": VIEWER}],
        "resources": [{"attributes": [{"name": "accountId", "value": server.account_id}]}],
    }
    refused = http.post("/v1/policies", json=two_subjects, headers=bearer)
    assert refused.status_code == 400 and "subjects" in message_of(refused)
    foreign_source = {
        "type": "authorization",
        "subjects": [
            {
                "attributes": [
                    {"name": "accountId", "value": "f" * 32},
                    {"name": "serviceName", "value": "cloud-object-storage"},
                ]
            }
        ],
        "roles": [{"role_id": READER}],
        "resources": [
            {
                "attributes": [
                    {"name": "accountId", "value": server.account_id},
                    {"name": "serviceName", "value": "kms"},
                ]
            }
        ],
    }
    refused = http.post("/v1/policies", json=foreign_source, headers=bearer)
    assert refused.status_code == 400, refused.text
    assert "subjects[0].attributes" in message_of(refused) and "f" * 32 in message_of(refused)
    for body in ([], "text", {"type": "access"}):
        refused = http.post("/v1/policies", json=body, headers=bearer)
        assert refused.status_code == 400 and code_of(refused) == "invalid_body"
    assert policy_count(server) == before


def test_bad_custom_roles_are_refused_naming_the_field(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    def role(**changes: Any) -> dict[str, Any]:
        body = {
            "name": "Checker" + uuid.uuid4().hex[:6].upper(),
            "account_id": server.account_id,
            "service_name": "iam-groups",
            "display_name": "checker",
            "actions": ["iam-groups.groups.read"],
        }
        return {**body, **changes}

    cases = [
        (role(actions=["iam-groups.groups.fly"]), "actions[0]"),
        (role(actions=["kms.secrets.read"]), "actions[0]"),
        (role(actions=[]), "actions"),
        (role(name="lowercase"), "name"),
        (role(service_name="no-such-service"), "service_name"),
        (role(display_name=""), "display_name"),
    ]
    with server.runtime.uow() as uow:
        before = len(uow.roles.list(server.account_id))
    for body, field in cases:
        refused = http.post("/v2/roles", json=body, headers=bearer)
        assert refused.status_code == 400, (body, refused.text)
        assert f"`{field}" in message_of(refused), (field, message_of(refused))
    with server.runtime.uow() as uow:
        assert len(uow.roles.list(server.account_id)) == before


def test_listing_needs_account_id(http: httpx.Client, bearer: dict[str, str]) -> None:
    for path in ("/v1/policies", "/v2/policies"):
        refused = http.get(path, headers=bearer)
        assert refused.status_code == 400
        assert code_of(refused) == "missing_required_query_parameter"
        assert "account_id" in message_of(refused)


def test_bad_list_parameters(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"sort": "colour"}, "sort"),
        ({"start": "bogus"}, "start"),
        ({"state": "gone"}, "state"),
        ({"type": "deny"}, "type"),
    ):
        refused = http.get(
            "/v1/policies", params={"account_id": server.account_id, **params}, headers=bearer
        )
        assert refused.status_code == 400 and field in message_of(refused), refused.text


# -- missing, foreign, stale ----------------------------------------------------------------------


def test_missing_policies_and_roles_answer_404_with_their_id(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    missing = str(uuid.uuid4())
    headers = {**bearer, "If-Match": "*"}
    for method, path, code in (
        ("GET", f"/v1/policies/{missing}", "policy_not_found"),
        ("GET", f"/v2/policies/{missing}", "policy_not_found"),
        ("PATCH", f"/v1/policies/{missing}", "policy_not_found"),
        ("DELETE", f"/v2/policies/{missing}", "policy_not_found"),
        ("GET", f"/v2/roles/{missing}", "role_not_found"),
        ("DELETE", f"/v2/roles/{missing}", "role_not_found"),
    ):
        response = http.request(method, path, headers=headers, json={"state": "active"})
        assert response.status_code == 404, (method, path, response.text)
        assert missing in message_of(response) and code_of(response) == code


def test_another_accounts_policies_answer_as_missing(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    other = server.container.identity.create_account("other", "other@example.com", None)
    theirs = as_bearer(http, other.owner_key.value)
    account = other.account.id
    policy_id = grant(http, theirs, v2_policy(account, "IBMid-THEIRS01"))
    for method, path in (
        ("GET", f"/v2/policies/{policy_id}"),
        ("GET", f"/v1/policies/{policy_id}"),
        ("PUT", f"/v2/policies/{policy_id}"),
        ("PATCH", f"/v1/policies/{policy_id}"),
        ("DELETE", f"/v2/policies/{policy_id}"),
    ):
        response = http.request(
            method,
            path,
            headers={**bearer, "If-Match": "*"},
            json=v2_policy(account, "IBMid-MINE0001"),
        )
        assert response.status_code == 404 and policy_id in message_of(response), response.text
    listed = http.get("/v2/policies", params={"account_id": account}, headers=bearer)
    assert listed.status_code == 403
    # Their custom role cannot be named in our policies.
    role = http.post(
        "/v2/roles",
        json={
            "name": "TheirRole",
            "account_id": account,
            "service_name": "iam-groups",
            "display_name": "theirs",
            "actions": ["iam-groups.groups.read"],
        },
        headers=theirs,
    )
    assert role.status_code == 201
    doc = v2_policy(server.account_id, "IBMid-MINE0001", roles=(role.json()["crn"],))
    doc["resource"]["attributes"][1]["value"] = "iam-groups"
    refused = http.post("/v2/policies", json=doc, headers=bearer)
    assert refused.status_code == 400 and "another account" in message_of(refused)
    assert http.get(f"/v2/policies/{policy_id}", headers=theirs).status_code == 200


def test_a_policy_is_replaced_through_its_own_family(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    policy_id = grant(http, bearer, v2_policy(server.account_id, "IBMid-FAMILY01"))
    v1_body = {
        "type": "access",
        "subjects": [{"attributes": [{"name": "iam_id", "value": "IBMid-FAMILY01"}]}],
        "roles": [{"role_id": VIEWER}],
        "resources": [{"attributes": [{"name": "accountId", "value": server.account_id}]}],
    }
    refused = http.put(
        f"/v1/policies/{policy_id}", json=v1_body, headers={**bearer, "If-Match": "*"}
    )
    assert refused.status_code == 400 and "/v2/policies" in message_of(refused)
    changed = copy.deepcopy(v2_policy(server.account_id, "IBMid-FAMILY01"))
    changed["type"] = "authorization"
    refused = http.put(
        f"/v2/policies/{policy_id}", json=changed, headers={**bearer, "If-Match": "*"}
    )
    assert refused.status_code == 400 and "type" in message_of(refused)
    no_tag = http.put(f"/v2/policies/{policy_id}", json=changed, headers=bearer)
    assert no_tag.status_code == 428


# -- seed 003 table 4: who may grant what --------------------------------------------------------


def test_a_viewer_cannot_create_policies(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    iam_id, key = new_service_id(server, http, bearer)
    grant(http, bearer, v2_policy(server.account_id, iam_id, service="iam-access-management"))
    theirs = as_bearer(http, key)
    listed = http.get("/v2/policies", params={"account_id": server.account_id}, headers=theirs)
    assert listed.status_code == 200
    before = policy_count(server)
    refused = http.post(
        "/v2/policies", json=v2_policy(server.account_id, "IBMid-VICTIM01"), headers=theirs
    )
    assert refused.status_code == 403 and code_of(refused) == "insufficent_permissions"
    assert "iam-access-management.policies.create" in message_of(refused)
    assert policy_count(server) == before


def test_a_service_administrator_grants_on_that_service_only(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    # Administrator on kms alone, with no role on IAM Access Management: seed 003 table 4 lets
    # "administrator on the service in the account" create policies on that service.
    iam_id, key = new_service_id(server, http, bearer)
    grant(http, bearer, v2_policy(server.account_id, iam_id, roles=(ADMINISTRATOR,), service="kms"))
    theirs = as_bearer(http, key)
    on_kms = v2_policy(server.account_id, "IBMid-KMSUSER1", roles=(READER,), service="kms")
    created = http.post("/v2/policies", json=on_kms, headers=theirs)
    assert created.status_code == 201, created.text
    before = policy_count(server)
    account_wide = v2_policy(
        server.account_id, "IBMid-KMSUSER1", service=None, service_type="service"
    )
    for body in (account_wide, v2_policy(server.account_id, "IBMid-KMSUSER1")):
        refused = http.post("/v2/policies", json=body, headers=theirs)
        assert refused.status_code == 403, refused.text
        assert "iam-access-management.policies.create" in message_of(refused)
    # Nor can it move its kms policy to a target it does not administer.
    widened = http.put(
        f"/v2/policies/{created.json()['id']}",
        json=account_wide,
        headers={**theirs, "If-Match": created.headers["ETag"]},
    )
    assert widened.status_code == 403
    assert policy_count(server) == before
    assert http.delete(f"/v2/policies/{created.json()['id']}", headers=theirs).status_code == 204


# -- a check after an acknowledged write on the same node sees it ----------------------------


def test_a_grant_and_its_revocation_take_effect_on_the_next_call(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    iam_id, key = new_service_id(server, http, bearer)
    theirs = as_bearer(http, key)
    assert http.get("/v1/serviceids/", headers=theirs).status_code == 403
    policy_id = grant(http, bearer, v2_policy(server.account_id, iam_id))
    assert http.get("/v1/serviceids/", headers=theirs).status_code == 200
    assert http.delete(f"/v2/policies/{policy_id}", headers=bearer).status_code == 204
    assert http.get("/v1/serviceids/", headers=theirs).status_code == 403
    # Restoring it (spec §6.1) grants again at once.
    tag = http.get(f"/v2/policies/{policy_id}", headers=bearer).headers["ETag"]
    restored = http.patch(
        f"/v1/policies/{policy_id}", json={"state": "active"}, headers={**bearer, "If-Match": tag}
    )
    assert restored.status_code == 200 and restored.json()["state"] == "active"
    assert http.get("/v1/serviceids/", headers=theirs).status_code == 200


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own: this test takes the owner's access away for good."""
    with ExitStack() as stack:
        yield start_server("sqlite", str(tmp_path), stack)


def test_the_owner_deleting_its_own_policy_loses_that_access(fresh_server: LiveServer) -> None:
    server = fresh_server
    with httpx.Client(base_url=server.url, timeout=10) as http:
        owner = as_bearer(http, server.apikey)
        listed = http.get(
            "/v2/policies",
            params={
                "account_id": server.account_id,
                "iam_id": server.iam_id,
                "service_type": "platform_service",
            },
            headers=owner,
        ).json()["policies"]
        (platform,) = listed
        assert http.get("/v1/serviceids/", headers=owner).status_code == 200
        assert http.delete(f"/v2/policies/{platform['id']}", headers=owner).status_code == 204
        refused = http.get("/v1/serviceids/", headers=owner)
        assert refused.status_code == 403, refused.text
        # Policy Management is an account management service too: no way back through it.
        again = http.get("/v2/policies", params={"account_id": server.account_id}, headers=owner)
        assert again.status_code == 403


def test_a_locked_service_id_cannot_gain_or_lose_policies(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    """IBM: a locked service ID cannot be a policy's subject, nor lose a policy (spec §6.1)."""
    iam_id, _ = new_service_id(server, http, bearer)
    policy_id = grant(http, bearer, v2_policy(server.account_id, iam_id))
    sid = iam_id.removeprefix("iam-")
    assert http.post(f"/v1/serviceids/{sid}/lock", headers=bearer).status_code == 204
    before = policy_count(server)
    refused = http.post("/v2/policies", json=v2_policy(server.account_id, iam_id), headers=bearer)
    assert refused.status_code == 409 and sid in message_of(refused)
    refused = http.delete(f"/v2/policies/{policy_id}", headers=bearer)
    assert refused.status_code == 409
    assert policy_count(server) == before
    assert http.delete(f"/v1/serviceids/{sid}/lock", headers=bearer).status_code == 204
    assert http.delete(f"/v2/policies/{policy_id}", headers=bearer).status_code == 204
