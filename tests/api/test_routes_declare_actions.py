"""Every route names its IAM action in one visible place, the action exists in a catalog, and the
route is really authorized by it: under an authorizer that denies everything, every guarded route
refuses, and the authorizer was asked about exactly the declared action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from strongroom import bootstrap
from strongroom.api.actions import ACTION_KEY, PUBLIC_KEY
from strongroom.api.app import create_app
from strongroom.authz import Resource, Verdict
from strongroom.config import Settings
from strongroom.testing import InProcessClient
from strongroom.tokens.claims import Principal
from tests.api.conftest import new_resource_group

KEY = "k" * 40
KMS_PROTECTED_CRN = "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:inst:bucket:b"


def catalog_actions() -> set[str]:
    actions: set[str] = set()
    for entry in resources.files("strongroom.catalogs").iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text())
            actions |= {a["id"] for a in data["actions"]}
    return actions


@dataclass
class DenyAndRecord:
    asked: list[str] = field(default_factory=list)

    def authorize(self, principal: Principal, action: str, resource: Resource) -> Verdict:
        self.asked.append(action)
        return Verdict(False, "denied by the test")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    runtime = bootstrap.build(
        Settings(
            data_dir=tmp_path_factory.mktemp("routes"),
            database_url="sqlite://",
            bootstrap_apikey=KEY,
        )
    )
    client = InProcessClient(runtime.app)
    token = client.post(
        "/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": KEY},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    account = runtime.first_start.account.id  # type: ignore[union-attr]
    sid = client.post(
        "/v1/serviceids/", json={"account_id": account, "name": "s"}, headers=headers
    ).json()
    key = client.post(
        "/v1/apikeys", json={"name": "k", "iam_id": sid["iam_id"]}, headers=headers
    ).json()
    # Unrestricted accounts let every active member create service IDs and their own API keys
    # when policies refuse (spec §4.4); restricted, creation is left to policies alone.
    restricted = client.request(
        "PUT",
        f"/v1/accounts/{account}/settings/identity",
        json={
            "restrict_create_service_id": "RESTRICTED",
            "restrict_create_platform_apikey": "RESTRICTED",
        },
        headers={**headers, "If-Match": "*"},
    )
    assert restricted.status_code == 200, restricted.text
    profile = client.post(
        "/v1/profiles", json={"account_id": account, "name": "p"}, headers=headers
    ).json()
    resources = _resource_world(client, headers)
    yield {
        **resources,
        "runtime": runtime,
        "headers": headers,
        "account": account,
        "sid": sid,
        "key": key,
        "profile": profile,
    }
    runtime.close()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    extra: dict[str, Any]


def operations(app: Any) -> list[Operation]:
    """Every operation the app serves, from its OpenAPI document (where `x-iam-action` lands)."""
    return [
        Operation(method.upper(), path, spec)
        for path, item in app.openapi()["paths"].items()
        for method, spec in item.items()
    ]


def test_every_route_declares_an_action_or_is_public(world: dict[str, Any]) -> None:
    known = catalog_actions()
    ops = operations(world["runtime"].app)
    assert len(ops) >= 22
    for op in ops:
        assert ACTION_KEY in op.extra or op.extra.get(PUBLIC_KEY), (
            f"{op.method} {op.path} declares no IAM action"
        )
        if ACTION_KEY in op.extra:
            assert op.extra[ACTION_KEY] in known, (
                f"{op.path}: `{op.extra[ACTION_KEY]}` is in no catalog"
            )


def test_public_routes_are_only_the_token_service_and_health(world: dict[str, Any]) -> None:
    public = {op.path for op in operations(world["runtime"].app) if op.extra.get(PUBLIC_KEY)}
    assert public == {
        "/healthz",
        "/identity/token",
        "/oidc/token",
        "/identity/keys",
        "/oidc/jwks",
        "/identity/.well-known/openid-configuration",
    }


def _policy_body(path: str, account: str) -> dict[str, Any]:
    """A well-formed policy (Viewer on kms), so the route gets as far as authorization."""
    viewer = "crn:v1:bluemix:public:iam::::role:Viewer"
    if path.startswith("/v1"):
        return {
            "type": "access",
            "subjects": [{"attributes": [{"name": "iam_id", "value": "IBMid-someone"}]}],
            "roles": [{"role_id": viewer}],
            "resources": [
                {
                    "attributes": [
                        {"name": "accountId", "value": account},
                        {"name": "serviceName", "value": "kms"},
                    ]
                }
            ],
        }
    return {
        "type": "access",
        "subject": {
            "attributes": [{"key": "iam_id", "operator": "stringEquals", "value": "IBMid-someone"}]
        },
        "resource": {
            "attributes": [
                {"key": "accountId", "operator": "stringEquals", "value": account},
                {"key": "serviceName", "operator": "stringEquals", "value": "kms"},
            ]
        },
        "control": {"grant": {"roles": [{"role_id": viewer}]}},
    }


PROFILE_BODIES = {
    ("POST", "/v1/profiles/{profile_id}/rules"): {
        "type": "Profile-CR",
        "cr_type": "VSI",
        "conditions": [{"claim": "sub", "operator": "EQUALS", "value": '"x"'}],
    },
    ("PUT", "/v1/profiles/{profile_id}/rules/{rule_id}"): {
        "type": "Profile-CR",
        "cr_type": "VSI",
        "conditions": [{"claim": "sub", "operator": "EQUALS", "value": '"x"'}],
    },
    ("POST", "/v1/profiles/{profile_id}/links"): {
        "cr_type": "VSI",
        "link": {"crn": "crn:v1:staging:public:is:us-south:a/1::instance:1"},
    },
    ("PUT", "/v1/profiles/{profile_id}/identities"): {
        "identities": [{"identifier": "IBMid-someone", "type": "user"}]
    },
    ("POST", "/v1/profiles/{profile_id}/identities/{identity_type}"): {
        "identifier": "IBMid-someone",
        "type": "user",
    },
}


def _profile_path(path: str, world: dict[str, Any]) -> str:
    for name, value in (
        ("{profile_id}", world["profile"]["id"]),
        ("{rule_id}", "ClaimRule-unknown"),
        ("{link_id}", "ProfileLink-unknown"),
        ("{identity_type}", "user"),
        ("{identifier_id}", "IBMid-someone"),
    ):
        path = path.replace(name, value)
    return path


# -- Resource Controller (spec §8) ----------------------------------------------------------------
KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
# Lists that show only what the caller may see: under deny-all they answer 200 with nothing in
# them (nothing disclosed), after asking about each candidate with the declared action.
FILTERED_LISTS = {
    ("GET", "/v2/resource_instances"),
    ("GET", "/v2/resource_keys"),
    ("GET", "/v1/reclamations"),
}


def _resource_world(client: InProcessClient, headers: dict[str, str]) -> dict[str, Any]:
    """An instance with a key, and a deleted one awaiting reclamation."""

    group = new_resource_group(client, headers)

    def instance(name: str) -> dict[str, Any]:
        body = {"name": name, "target": "us-south", "resource_group": group,
                "resource_plan_id": KMS_PLAN}  # fmt: skip
        made = client.post("/v2/resource_instances", json=body, headers=headers)
        assert made.status_code == 201, made.text
        return dict(made.json())

    kept, deleted = instance("kept"), instance("deleted")
    rkey = client.post(
        "/v2/resource_keys", json={"name": "k", "source": kept["guid"]}, headers=headers
    )
    assert rkey.status_code == 201, rkey.text
    client.request("DELETE", f"/v2/resource_instances/{deleted['guid']}", headers=headers)
    reclamation = client.get("/v1/reclamations", headers=headers).json()["resources"][0]
    # A Key Protect key in the kept instance (spec kms-api.md §3).
    kms_headers = dict(headers, **{"Bluemix-Instance": kept["guid"]})
    made = client.post("/api/v2/keys", json=_kms_envelope({"name": "root"}), headers=kms_headers)
    assert made.status_code == 201, made.text
    return {
        "instance": kept,
        "rkey": rkey.json(),
        "reclamation": reclamation,
        "group": group,
        "kms_key": made.json()["resources"][0],
    }


def _kms_envelope(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"collectionType": "application/vnd.ibm.kms.key+json", "collectionTotal": 1},
        "resources": [{"type": "application/vnd.ibm.kms.key+json", **resource}],
    }


POLICY_TYPE = "application/vnd.ibm.kms.policy+json"


def _kms_policies(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"collectionType": POLICY_TYPE, "collectionTotal": 1},
        "resources": [resource],
    }


def _kms_call(op: Operation, world: dict[str, Any]) -> tuple[str, Any] | None:
    """Key Protect routes: the kept instance's key; a body each route accepts."""
    if not op.path.startswith("/api/v2"):
        return None
    path = op.path.replace("{id}", world["kms_key"]["id"])
    path = path.replace("{key_ring_id}", "team-a").replace("{alias}", "an-alias")
    path = path.replace("{crn}", quote(KMS_PROTECTED_CRN, safe=""))
    if "/registrations/" in op.path:  # a registration_input body is optional
        return path, None
    if op.path == "/api/v2/event_ack":
        return path, {
            "metadata": {
                "collectionType": "application/vnd.ibm.kms.event_acknowledge+json",
                "collectionTotal": 1,
            },
            "resources": [
                {
                    "eventId": "e-1",
                    "adopterKeyState": "DEK_DESTROYED",
                    "timestamp": "2030-01-01T00:00:00Z",
                }
            ],
        }
    if op.path in ("/api/v2/keys", "/api/v2/keys_with_policy_overrides") and op.method == "POST":
        rotation = {"rotation": {"enabled": True, "interval_month": 3}}
        return path, _kms_envelope({"name": "another", **rotation})
    if op.path == "/api/v2/keys/{id}/policies" and op.method == "PUT":
        policy = {"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}}
        return path, _kms_policies(policy)
    if op.path == "/api/v2/instance/policies" and op.method == "PUT":
        return path, _kms_policies({"policy_type": "metrics", "policy_data": {"enabled": True}})
    if op.method == "PATCH":
        return path, {"keyRingID": "default"}
    if op.path.endswith(("/unwrap", "/rewrap")):
        return path, {"ciphertext": "opaque"}
    if op.path == "/api/v2/import_token":  # spec kms-api.md §3.7
        return path, {"expiration": 600, "maxAllowedRetrievals": 1} if op.method == "POST" else None
    return path, {} if op.method == "POST" else None


def _resource_call(op: Operation, world: dict[str, Any]) -> tuple[str, Any] | None:
    if op.path.startswith("/v2/resource_instances"):
        body = {"name": "n", "target": "us-south", "resource_group": world["group"],
                "resource_plan_id": KMS_PLAN}  # fmt: skip
        return op.path.replace("{id}", world["instance"]["guid"]), body
    if op.path.startswith("/v2/resource_keys"):
        body = {"name": "n", "source": world["instance"]["guid"]}
        return op.path.replace("{id}", world["rkey"]["guid"]), body
    if op.path.startswith("/v1/reclamations"):
        path = op.path.replace("{id}", world["reclamation"]["id"])
        return path.replace("{action_name}", "restore"), None
    return None


def sample_call(op: Operation, world: dict[str, Any]) -> dict[str, Any]:
    """A plausible request for each guarded route, aimed at objects in the caller's own account."""
    headers = dict(world["headers"], **{"If-Match": "*", "IAM-ApiKey": world["key"]["apikey"]})
    kms_call = _kms_call(op, world)
    if kms_call is not None:  # Key Protect refuses an IAM denial with 401 (spec kms-api.md §1.5)
        path, body = kms_call
        headers["Bluemix-Instance"] = world["instance"]["guid"]
        return {"method": op.method, "url": path, "json": body, "headers": headers}
    resource_call = _resource_call(op, world)
    if resource_call is not None:
        path, body = resource_call
        return {"method": op.method, "url": path, "json": body, "headers": headers}
    path = op.path.replace(
        "{id}", world["sid"]["id"] if "serviceids" in op.path else world["key"]["id"]
    )
    path = _profile_path(path, world)
    body: Any = None
    headers = dict(world["headers"], **{"If-Match": "*", "IAM-ApiKey": world["key"]["apikey"]})
    if op.path == "/v1/serviceids/" and op.method == "POST":
        body = {"account_id": world["account"], "name": "new"}
    elif op.path == "/v1/apikeys" and op.method == "POST":
        body = {"name": "new", "iam_id": world["sid"]["iam_id"]}
    elif (op.method, op.path) in PROFILE_BODIES:
        body = PROFILE_BODIES[(op.method, op.path)]
    elif op.path == "/v1/profiles" and op.method == "POST":
        body = {"account_id": world["account"], "name": "new"}
    elif op.path == "/v1/audit/hash":
        body = {"input": "a value to search the audit trail for"}
    elif op.path in ("/v1/policies", "/v2/policies") and op.method == "POST":
        body = _policy_body(op.path, world["account"])
    elif op.path.startswith("/v2/authz"):
        # The decision point: one question about the caller's own account (roles ignore action).
        resource = {"attributes": {"accountId": world["account"], "serviceName": "kms"}}
        subject = {"attributes": {"id": "IBMid-someone"}}
        body = [{"subject": subject, "action": "kms.secrets.read", "resource": resource}]
    elif op.path == "/v1/enterprises" and op.method == "POST":
        # Decided in the source account named in the body: the caller's own.
        body = {
            "source_account_id": world["account"],
            "name": "Acme",
            "primary_contact_iam_id": "IBMid-x",
        }
    elif op.method == "PUT":
        body = {"name": "renamed"}
    return {"method": op.method, "url": path, "json": body, "headers": headers}


def test_every_guarded_route_is_authorized_by_its_declared_action(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    recorder = DenyAndRecord()
    app = create_app(replace(runtime.container, authorizer=recorder))
    client = InProcessClient(app)
    guarded = [op for op in operations(app) if not op.extra.get(PUBLIC_KEY)]
    assert len(guarded) >= 16
    for op in guarded:
        recorder.asked.clear()
        call = sample_call(op, world)
        response = client.request(**call)
        if (op.method, op.path) in FILTERED_LISTS:
            assert response.status_code == 200 and response.json()["resources"] == []
            assert recorder.asked and set(recorder.asked) == {op.extra[ACTION_KEY]}
            continue
        refused = (401,) if op.path.startswith("/api/v2") else (403, 404)
        assert response.status_code in refused, f"{op.method} {op.path}: {response.status_code}"
        # Asked at least once, and only ever for its declared action (a list that shows only
        # what the caller may view asks once per candidate before it refuses).
        assert recorder.asked, f"{op.method} {op.path}: never asked"
        assert set(recorder.asked) == {op.extra[ACTION_KEY]}, (
            f"{op.method} {op.path}: {recorder.asked}"
        )
    # The objects survived every refused call.
    ok = InProcessClient(runtime.app).get(
        f"/v1/serviceids/{world['sid']['id']}", headers=world["headers"]
    )
    assert ok.status_code == 200 and ok.json()["name"] == "s"


def test_catalog_files_are_consistent() -> None:
    for entry in resources.files("strongroom.catalogs").iterdir():
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text())
        ids = [a["id"] for a in data["actions"]]
        assert len(ids) == len(set(ids)), f"{entry.name}: duplicate action ids"
        for action in ids:
            service, *rest = action.split(".")
            assert service == data["service"] and len(rest) == 2, (
                f"{action} is not <service>.<noun>.<verb>"
            )
        for role in data["roles"]:
            unknown = set(role["actions"]) - set(ids)
            assert not unknown, f"{entry.name}: role {role['id']} grants unknown actions {unknown}"
    assert Path(str(resources.files("strongroom.catalogs"))).is_dir()
