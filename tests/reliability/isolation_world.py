"""Random multi-account worlds for the tenant isolation test (reliability.md C2), built through
the HTTP API as a user would: per account users, service IDs with API keys, a user API key,
access groups with members and rules, v1 and v2 policies, a custom role, a trusted profile with
a rule, a link and an identity, a resource group, a Key Protect instance with a resource key,
a deleted instance awaiting reclamation, Key Protect keys with a ring and an alias, and an
enterprise with an account group."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
GROUP_RULE = {
    "expiration": 12,
    "realm_name": "https://idp.example.com",
    "conditions": [{"claim": "groups", "operator": "CONTAINS", "value": '"admins"'}],
}
PROFILE_RULE = {
    "type": "Profile-CR",
    "cr_type": "VSI",
    "conditions": [{"claim": "sub", "operator": "EQUALS", "value": '"x"'}],
}


def _ok(response: httpx.Response, *codes: int) -> dict[str, Any]:
    assert response.status_code in codes, (
        f"{response.request.method} {response.request.url.path}: {response.text[:400]}"
    )
    return dict(response.json()) if response.content else {}


@dataclass
class Tenant:
    """One account's objects. `ids` maps a role in the world (`policy_v1`, `kms_key`...) to one
    concrete id; `all_ids` holds every id the account owns (for the foreign-row scan)."""

    account: str
    owner: str
    apikey: str
    headers: dict[str, str]
    enterprise_headers: dict[str, str] = field(default_factory=dict)  # its enterprise's token
    ids: dict[str, str] = field(default_factory=dict)
    all_ids: set[str] = field(default_factory=set)

    def keep(self, role: str, value: str) -> str:
        self.all_ids.add(value)
        self.ids.setdefault(role, value)
        return value


def new_tenant(server: LiveServer, http: httpx.Client, rng: random.Random) -> Tenant:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"c2 {tag}", f"c2.{tag}@example.com", None)
    key = made.owner_key.value
    tenant = Tenant(
        made.account.id,
        made.owner.iam_id,
        key,
        {"Authorization": f"Bearer {token_for(http, key)}"},
    )
    _identities(http, tenant, rng)
    _access(http, tenant, rng)
    _profile(http, tenant)
    _resources(http, tenant, rng)
    _enterprise(http, tenant)
    return tenant


def _identities(http: httpx.Client, t: Tenant, rng: random.Random) -> None:
    h, acct = t.headers, t.account
    invited = _ok(
        http.post(
            f"/v2/accounts/{acct}/users",
            json={"users": [{"email": f"u.{uuid.uuid4().hex[:8]}@example.com",
                             "account_role": "Member"}]},
            headers=h,
        ),
        202,
    )  # fmt: skip
    t.keep("user", invited["resources"][0]["id"])
    for n in range(rng.randint(1, 3)):
        body = {"account_id": acct, "name": f"sid-{n}", "apikey": {"name": f"key-{n}"}}
        sid = _ok(http.post("/v1/serviceids/", json=body, headers=h), 201)
        t.keep("sid", sid["id"])
        t.keep("sid_iam", sid["iam_id"])
        t.keep("apikey", sid["apikey"]["id"])
    mine = _ok(http.post("/v1/apikeys", json={"name": "mine", "iam_id": t.owner}, headers=h), 201)
    t.keep("user_apikey", mine["id"])


def _policy_v1(account: str, subject: str) -> dict[str, Any]:
    return {
        "type": "access",
        "subjects": [{"attributes": [{"name": "iam_id", "value": subject}]}],
        "roles": [{"role_id": VIEWER}],
        "resources": [{"attributes": [{"name": "accountId", "value": account},
                                      {"name": "serviceName", "value": "kms"}]}],
    }  # fmt: skip


def _policy_v2(account: str, subject: str) -> dict[str, Any]:
    return {
        "type": "access",
        "subject": {"attributes": [
            {"key": "iam_id", "operator": "stringEquals", "value": subject}]},
        "resource": {"attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": account},
            {"key": "serviceName", "operator": "stringEquals", "value": "kms"}]},
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }  # fmt: skip


def _access(http: httpx.Client, t: Tenant, rng: random.Random) -> None:
    h, acct = t.headers, t.account
    for n in range(rng.randint(1, 2)):
        group = _ok(
            http.post("/v2/groups", params={"account_id": acct}, json={"name": f"g{n}"}, headers=h),
            201,
        )
        t.keep("group", group["id"])
        members = {"members": [{"iam_id": t.ids["sid_iam"], "type": "service"}]}
        _ok(http.put(f"/v2/groups/{group['id']}/members", json=members, headers=h), 207)
        rule = _ok(http.post(f"/v2/groups/{group['id']}/rules", json=GROUP_RULE, headers=h), 201)
        t.keep("group_rule", rule["id"])
    for _ in range(rng.randint(1, 3)):
        made = _ok(
            http.post("/v1/policies", json=_policy_v1(acct, t.ids["sid_iam"]), headers=h), 201
        )
        t.keep("policy_v1", made["id"])
    made = _ok(http.post("/v2/policies", json=_policy_v2(acct, t.ids["sid_iam"]), headers=h), 201)
    t.keep("policy_v2", made["id"])
    role = {"name": f"Iso{uuid.uuid4().hex[:8]}", "account_id": acct,
            "service_name": "iam-groups", "display_name": "iso",
            "actions": ["iam-groups.groups.read"]}  # fmt: skip
    t.keep("role", _ok(http.post("/v2/roles", json=role, headers=h), 201)["id"])


def _profile(http: httpx.Client, t: Tenant) -> None:
    h = t.headers
    body = {"account_id": t.account, "name": f"p-{uuid.uuid4().hex[:8]}"}
    profile = t.keep("profile", _ok(http.post("/v1/profiles", json=body, headers=h), 201)["id"])
    rule = _ok(http.post(f"/v1/profiles/{profile}/rules", json=PROFILE_RULE, headers=h), 201)
    t.keep("profile_rule", rule["id"])
    crn = f"crn:v1:bluemix:public:is:us-south:a/{t.account}::instance:{uuid.uuid4().hex[:12]}"
    link = {"cr_type": "VSI", "link": {"crn": crn}}
    made = _ok(http.post(f"/v1/profiles/{profile}/links", json=link, headers=h), 201)
    t.keep("profile_link", made["id"])
    identity = {"identifier": t.ids["user"], "type": "user"}
    _ok(http.post(f"/v1/profiles/{profile}/identities/user", json=identity, headers=h), 200)


def _resources(http: httpx.Client, t: Tenant, rng: random.Random) -> None:
    h = t.headers
    rg = _ok(http.post("/v2/resource_groups", json={"name": "iso"}, headers=h), 201)["id"]
    t.keep("rg", rg)

    def instance(name: str) -> dict[str, Any]:
        body = {"name": name, "target": "us-south", "resource_group": rg,
                "resource_plan_id": KMS_PLAN}  # fmt: skip
        return _ok(http.post("/v2/resource_instances", json=body, headers=h), 201)

    kept, gone = instance("kept"), instance("gone")
    t.keep("instance", kept["guid"])
    t.all_ids.add(kept["id"])  # its CRN
    rkey = _ok(http.post("/v2/resource_keys", json={"name": "k", "source": kept["guid"]},
                         headers=h), 201)  # fmt: skip
    t.keep("rkey", rkey["guid"])
    _ok(http.delete(f"/v2/resource_instances/{gone['guid']}", headers=h), 204)
    reclaimed = _ok(http.get("/v1/reclamations", params={"account_id": t.account}, headers=h), 200)
    t.keep("reclamation", reclaimed["resources"][0]["id"])
    t.all_ids.add(gone["guid"])
    kms = {**h, "Bluemix-Instance": kept["guid"]}
    ring = f"ring-{uuid.uuid4().hex[:8]}"
    _ok(http.post(f"/api/v2/key_rings/{ring}", headers=kms), 201)
    t.keep("key_ring", ring)
    for n in range(rng.randint(1, 2)):
        body = {
            "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [{"type": KEY_TYPE, "name": f"key-{n}", "keyRingID": ring}],
        }
        made = _ok(http.post("/api/v2/keys", json=body, headers=kms), 201)
        t.keep("kms_key", made["resources"][0]["id"])
    token = {"expiration": 600, "maxAllowedRetrievals": 1}
    _ok(http.post("/api/v2/import_token", json=token, headers=kms), 200)
    alias = f"alias-{uuid.uuid4().hex[:8]}"
    _ok(http.post(f"/api/v2/keys/{t.ids['kms_key']}/aliases/{alias}", headers=kms), 201)
    t.keep("alias", alias)


def _enterprise(http: httpx.Client, t: Tenant) -> None:
    body = {"source_account_id": t.account, "name": "Iso", "primary_contact_iam_id": t.owner}
    made = _ok(http.post("/v1/enterprises", json=body, headers=t.headers), 202)
    t.keep("enterprise", made["enterprise_id"])
    t.keep("enterprise_account", made["enterprise_account_id"])
    ent = {"Authorization": f"Bearer {token_for(http, made['iam_apikey'])}"}
    t.enterprise_headers = ent
    crn = (
        f"crn:v1:bluemix:public:enterprise::a/{made['enterprise_account_id']}::enterprise:"
        f"{made['enterprise_id']}"
    )
    t.ids["enterprise_crn"] = crn
    group = {"parent": crn, "name": "iso-group", "primary_contact_iam_id": t.owner}
    made_group = _ok(http.post("/v1/account-groups", json=group, headers=ent), 201)
    t.keep("account_group", made_group["account_group_id"])
