"""Persona x key operation, from seed 000 table 4 as data (`kms_persona_matrix.yaml`), over HTTP
on SQLite and PostgreSQL: one service ID per Key Protect role, holding that role on the
instance through a v1 policy, runs each operation against a fresh key and is allowed or answered
401 UNAUTHORIZED_ERR exactly as the table says. Then the narrower grants: on one key, and on one
key ring (spec kms-api.md §4.1, §3.2). Timing rules are met by moving the KMS clock."""

from __future__ import annotations

import base64
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.sdk.kms_helpers import KEY_TYPE, Kms, Tenant, grant, kms, new_tenant, role_crn

__all__ = ["kms"]  # the module-scoped fixture

MATRIX = yaml.safe_load((Path(__file__).parent / "kms_persona_matrix.yaml").read_text())
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
_PARAM = re.compile(r"\{[^}]*\}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def served(server: LiveServer, route: str) -> bool:
    """Whether this build serves `METHOD /path` (path parameters may be named differently)."""
    method, path = route.split(" ", 1)
    wanted = _PARAM.sub("{}", path)
    for found, operations in server.runtime.app.openapi()["paths"].items():
        if _PARAM.sub("{}", found) == wanted and method.lower() in operations:
            return True
    return False


def envelope(resource: dict[str, Any], kind: str = KEY_TYPE) -> dict[str, Any]:
    return {"metadata": {"collectionType": kind, "collectionTotal": 1}, "resources": [resource]}


class World:
    """One tenant (an account with a kms instance), its owner, and a service ID per persona."""

    def __init__(self, kms: Kms, tenant: Tenant, http: httpx.Client) -> None:
        self.kms = kms
        self.tenant = tenant
        self.http = http
        self.owner = self._headers(token_for(http, tenant.apikey))
        self.personas: dict[str, dict[str, str]] = {}

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Bluemix-Instance": self.tenant.instance}

    def identity(self, role: str | None, **attrs: str) -> dict[str, str]:
        """A new service ID with `role` on the instance (narrowed by `attrs`); its headers."""
        sid = self.http.post(
            "/v1/serviceids/",
            json={"account_id": self.tenant.account_id, "name": unique(str(role)),
                  "apikey": {"name": "k"}},
            headers=self.owner,
        )  # fmt: skip
        assert sid.status_code == 201, sid.text
        if role is not None:
            grant(self.kms.server, self.tenant, sid.json()["iam_id"], role_crn(role), **attrs)
        return self._headers(token_for(self.http, sid.json()["apikey"]["apikey"]))

    def persona(self, role: str) -> dict[str, str]:
        if role not in self.personas:
            self.personas[role] = self.identity(None if role == "none" else role)
        return self.personas[role]

    def call(self, method: str, path: str, who: dict[str, str], **kwargs: Any) -> httpx.Response:
        headers = {**who, **kwargs.pop("headers", {})}
        return self.http.request(method, f"/api/v2{path}", headers=headers, **kwargs)

    def owner_call(self, method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        done = self.call(method, path, self.owner, **kwargs)
        assert done.status_code == status, done.text
        return done

    def key(self, ring: str | None = None, **fields: Any) -> str:
        """A fresh root key (or whatever `fields` say) made by the owner; its id."""
        resource = {"type": KEY_TYPE, "name": unique("k"), "extractable": False, **fields}
        headers = {"X-Kms-Key-Ring": ring} if ring else {}
        made = self.owner_call("POST", "/keys", 201, json=envelope(resource), headers=headers)
        return str(made.json()["resources"][0]["id"])

    def wrapped(self, key: str) -> str:
        done = self.owner_call("POST", f"/keys/{key}/actions/wrap", 200, json={})
        return str(done.json()["ciphertext"])

    def deleted(self, after_seconds: int) -> str:
        """A key the owner deleted `after_seconds` ago on the KMS clock."""
        key = self.key()
        self.owner_call("DELETE", f"/keys/{key}", 204)
        self.kms.clock.advance(after_seconds)
        return key

    def dual_auth_key(self) -> str:
        """A key with a dual authorization policy (spec §3.3), for the deletion scheduling ops."""
        key = self.key()
        policy = {"type": POLICY_TYPE, "dualAuthDelete": {"enabled": True}}
        self.owner_call(
            "PUT", f"/keys/{key}/policies", 200,
            params={"policy": "dualAuthDelete"}, json=envelope(policy, POLICY_TYPE),
        )  # fmt: skip
        return key

    def ring(self) -> str:
        ring = unique("ring")
        self.owner_call("POST", f"/key_rings/{ring}", 201)
        return ring


Who = dict[str, str]
Op = Callable[[World, Who], httpx.Response]


def _new_key(**fields: Any) -> dict[str, Any]:
    return envelope({"type": KEY_TYPE, "name": unique("p"), "extractable": False, **fields})


def _import(w: World, who: Who) -> httpx.Response:
    return w.call("POST", "/keys", who, json=_new_key(payload=b64(os.urandom(32))))


def _wrap(w: World, who: Who) -> httpx.Response:
    body = {"plaintext": b64(os.urandom(32))}
    return w.call("POST", f"/keys/{w.key()}/actions/wrap", who, json=body)


def _unwrap(w: World, who: Who, action: str = "unwrap") -> httpx.Response:
    key = w.key()
    return w.call("POST", f"/keys/{key}/actions/{action}", who, json={"ciphertext": w.wrapped(key)})


def _enable(w: World, who: Who) -> httpx.Response:
    key = w.key()
    w.owner_call("POST", f"/keys/{key}/actions/disable", 204)
    w.kms.clock.advance(31)  # enable waits 30 s after disable (spec §2.2)
    return w.call("POST", f"/keys/{key}/actions/enable", who)


def _set_for_deletion(w: World, who: Who) -> httpx.Response:
    return w.call("POST", f"/keys/{w.dual_auth_key()}/actions/setKeyForDeletion", who)


def _unset_for_deletion(w: World, who: Who) -> httpx.Response:
    key = w.dual_auth_key()
    w.owner_call("POST", f"/keys/{key}/actions/setKeyForDeletion", 204)  # the persona cancels it
    return w.call("POST", f"/keys/{key}/actions/unsetKeyForDeletion", who)


def _set_key_policies(w: World, who: Who) -> httpx.Response:
    policy = {"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}}
    body = envelope(policy, POLICY_TYPE)
    return w.call("PUT", f"/keys/{w.key()}/policies", who, params={"policy": "rotation"}, json=body)


def _set_instance_policies(w: World, who: Who) -> httpx.Response:
    policy = {"policy_type": "metrics", "policy_data": {"enabled": False}}  # changes nothing else
    body = envelope(policy, POLICY_TYPE)
    return w.call("PUT", "/instance/policies", who, params={"policy": "metrics"}, json=body)


def _create_import_token(w: World, who: Who) -> httpx.Response:
    return w.call("POST", "/import_token", who, json={"expiration": 600, "maxAllowedRetrievals": 1})


def _retrieve_import_token(w: World, who: Who) -> httpx.Response:
    w.owner_call("POST", "/import_token", 200, json={"expiration": 600, "maxAllowedRetrievals": 1})
    return w.call("GET", "/import_token", who)


def _delete_alias(w: World, who: Who) -> httpx.Response:
    key, alias = w.key(), unique("alias")
    w.owner_call("POST", f"/keys/{key}/aliases/{alias}", 201)
    return w.call("DELETE", f"/keys/{key}/aliases/{alias}", who)


# One callable per matrix row: what the persona does, after the owner set the stage.
OPS: dict[str, Op] = {
    "create": lambda w, who: w.call("POST", "/keys", who, json=_new_key()),
    "import": _import,
    "retrieve": lambda w, who: w.call("GET", f"/keys/{w.key(extractable=True)}", who),
    "metadata": lambda w, who: w.call("GET", f"/keys/{w.key()}/metadata", who),
    "total": lambda w, who: w.call("HEAD", "/keys", who),
    "list": lambda w, who: w.call("GET", "/keys", who),
    "wrap": _wrap,
    "unwrap": _unwrap,
    "rewrap": lambda w, who: _unwrap(w, who, "rewrap"),
    "patch": lambda w, who: w.call("PATCH", f"/keys/{w.key()}", who, json={"keyRingID": "default"}),
    "rotate": lambda w, who: w.call("POST", f"/keys/{w.key()}/actions/rotate", who),
    "disable": lambda w, who: w.call("POST", f"/keys/{w.key()}/actions/disable", who),
    "enable": _enable,
    "set_for_deletion": _set_for_deletion,
    "unset_for_deletion": _unset_for_deletion,
    "delete": lambda w, who: w.call("DELETE", f"/keys/{w.key()}", who),
    # purge waits 4 h after the delete, restore 30 s (spec §3.3)
    "purge": lambda w, who: w.call("DELETE", f"/keys/{w.deleted(4 * 3600 + 1)}/purge", who),
    "restore": lambda w, who: w.call("POST", f"/keys/{w.deleted(31)}/restore", who),
    "set_key_policies": _set_key_policies,
    "list_key_policies": lambda w, who: w.call("GET", f"/keys/{w.key()}/policies", who),
    "set_instance_policies": _set_instance_policies,
    "list_instance_policies": lambda w, who: w.call("GET", "/instance/policies", who),
    "create_import_token": _create_import_token,
    "retrieve_import_token": _retrieve_import_token,
    "list_key_registrations": lambda w, who: w.call("GET", f"/keys/{w.key()}/registrations", who),
    "list_registrations": lambda w, who: w.call("GET", "/keys/registrations", who),
    "create_key_ring": lambda w, who: w.call("POST", f"/key_rings/{unique('ring')}", who),
    "list_key_rings": lambda w, who: w.call("GET", "/key_rings", who),
    "delete_key_ring": lambda w, who: w.call("DELETE", f"/key_rings/{w.ring()}", who),
    "create_alias": lambda w, who: w.call("POST", f"/keys/{w.key()}/aliases/{unique('a')}", who),
    "delete_alias": _delete_alias,
}

ROWS = {row["op"]: row for row in MATRIX["operations"]}
CASES = [
    pytest.param(role, op, row[role], id=f"{role}-{op}")
    for op, row in ROWS.items()
    for role in MATRIX["roles"]
]


@pytest.fixture(scope="module")
def world(kms: Kms) -> Iterator[World]:
    with httpx.Client(base_url=kms.server.url, timeout=10) as http:
        yield World(kms, new_tenant(kms.server), http)


def reason(response: httpx.Response) -> str | None:
    if not response.content:
        return None  # HEAD, and the 2xx answers without a body
    body = response.json()
    resources = body.get("resources") if isinstance(body, dict) else None
    if not resources or "reasons" not in resources[0]:
        return None
    return str(resources[0]["reasons"][0]["code"])


def assert_refused(response: httpx.Response, what: str) -> None:
    assert response.status_code == 401, f"{what}: {response.status_code} {response.text}"
    assert response.request.method == "HEAD" or reason(response) == "UNAUTHORIZED_ERR", what


def assert_allowed(
    response: httpx.Response, what: str, passes: frozenset[str] = frozenset()
) -> None:
    got = response.status_code
    if 200 <= got < 300:
        return
    assert got != 401 and reason(response) in passes, f"{what}: {got} {response.text}"


def test_the_matrix_covers_every_operation_and_role() -> None:
    assert set(ROWS) == set(OPS)
    assert all(set(MATRIX["roles"]) <= set(row) for row in ROWS.values())
    assert all(row["row"] and row["route"] for row in ROWS.values())


@pytest.mark.parametrize(("role", "op", "allowed"), CASES)
def test_a_role_on_the_instance(world: World, role: str, op: str, allowed: bool) -> None:
    row = ROWS[op]
    assert served(world.kms.server, row["route"]), f"`{row['route']}` is not served"
    response = OPS[op](world, world.persona(role))
    what = f"{role} {op} ({row['row']})"
    if not allowed:
        assert_refused(response, what)
        return
    assert_allowed(response, what, frozenset(row.get("passes", ())))


def listed(w: World, who: Who, **headers: str) -> list[str] | None:
    """The ids GET /keys shows `who`, or None when the list is refused (401)."""
    answer = w.call("GET", "/keys", who, headers=headers)
    if answer.status_code == 401:
        return None
    assert answer.status_code == 200, answer.text
    return [k["id"] for k in answer.json()["resources"]]


def test_a_grant_on_one_key_reaches_that_key_only(world: World) -> None:
    mine, other = world.key(), world.key()
    who = world.identity("Writer", resourceType="key", resource=mine)
    for op in ("metadata", "wrap", "rotate"):
        path = {"metadata": f"/keys/{mine}/metadata"}.get(op, f"/keys/{mine}/actions/{op}")
        assert_allowed(world.call("GET" if op == "metadata" else "POST", path, who), op)
    assert_refused(world.call("GET", f"/keys/{other}/metadata", who), "metadata of another key")
    assert_refused(world.call("POST", f"/keys/{other}/actions/wrap", who), "wrap another key")
    assert_refused(world.call("POST", "/keys", who, json=_new_key()), "create in the instance")
    # Keys seen only through a key-level grant are not listed (spec §3.2).
    shown = listed(world, who)
    assert shown is None or mine not in shown


def test_a_grant_on_the_default_ring_reaches_its_keys(world: World) -> None:
    key = world.key()
    who = world.identity("Writer", keyRing="default")
    assert_allowed(world.call("GET", f"/keys/{key}/metadata", who), "metadata in the ring")
    assert_allowed(world.call("POST", f"/keys/{key}/actions/rotate", who), "rotate in the ring")
    assert_allowed(world.call("POST", "/keys", who, json=_new_key()), "create in the ring")
    assert key in (listed(world, who) or [])

    elsewhere = world.identity("Writer", keyRing=unique("ring"))
    assert_refused(world.call("GET", f"/keys/{key}/metadata", elsewhere), "another ring's key")
    assert_refused(world.call("POST", "/keys", elsewhere, json=_new_key()), "create in default")
    assert listed(world, elsewhere) is None


def test_a_grant_on_a_key_ring(world: World) -> None:
    ring = world.ring()
    inside, outside = world.key(ring=ring), world.key()
    who = world.identity("Writer", keyRing=ring)
    assert_allowed(world.call("GET", f"/keys/{inside}/metadata", who), "metadata in the ring")
    assert_allowed(world.call("POST", f"/keys/{inside}/actions/wrap", who), "wrap in the ring")
    made = world.call("POST", "/keys", who, json=_new_key(), headers={"X-Kms-Key-Ring": ring})
    assert_allowed(made, "create in the ring")
    assert_refused(world.call("GET", f"/keys/{outside}/metadata", who), "a key in default")
    assert_refused(world.call("POST", "/keys", who, json=_new_key()), "create in default")
    shown = listed(world, who)
    assert shown is not None and inside in shown and outside not in shown
