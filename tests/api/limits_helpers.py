"""What the account-limit tests share (limits.yaml; reliability.md §4, C7): a fresh account
per test on a server with scaled-down limits, and for each counted object one HTTP create and
the count the store holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
RULE = {
    "expiration": 12,
    "realm_name": "https://idp.example.com",
    "conditions": [{"claim": "groups", "operator": "CONTAINS", "value": '"admins"'}],
}
# The Identity family answers `status_code` as a string (spec §2.7); the others as a number.
IDENTITY_PATHS = ("/v1/serviceids", "/v1/apikeys", "/v1/profiles")


@dataclass
class Tenant:
    """A new account on `server`, its owner's bearer headers, and an HTTP client."""

    server: LiveServer
    account: str
    owner: str
    headers: dict[str, str]
    http: httpx.Client
    made: list[str] = field(default_factory=list)

    def count(self, kind: str, parent: str = "") -> int:
        with self.server.runtime.uow() as uow:
            if kind == "policies":
                return uow.policies.count_active(self.account)
            if kind == "subject_policies":
                return uow.policies.count_active(self.account, iam_id=parent)
            if kind == "all_policy_rows":
                return uow.policies.count(self.account)
            if kind == "roles":
                return len(uow.roles.list(self.account))
            if kind == "groups":
                return uow.access_groups.count(self.account)
            if kind == "memberships":
                return len(uow.group_members.of_iam_id(self.account, parent))
            if kind == "rules":
                return len(uow.group_rules.of_group(parent))
            if kind == "service_ids":
                return uow.service_ids.count(self.account)
            if kind == "profiles":
                return uow.profiles.count(self.account)
            if kind == "api_keys":
                return uow.api_keys.count_owned_by(parent or self.owner)
        raise ValueError(kind)

    def create(
        self, kind: str, parent: str = "", http: httpx.Client | None = None
    ) -> httpx.Response:
        """One create of `kind` through the API (`parent`: the subject, group or key owner)."""
        http = http or self.http
        tag = uuid.uuid4().hex[:10]
        post: Callable[..., httpx.Response] = http.post
        if kind == "policies":
            return post(
                "/v2/policies", json=policy(f"IBMid-{tag}", self.account), headers=self.headers
            )
        if kind == "subject_policies":
            return post("/v2/policies", json=policy(parent, self.account), headers=self.headers)
        if kind == "roles":
            body = {
                "name": "Limit" + tag.upper().replace("0", "X"),
                "account_id": self.account,
                "service_name": "iam-groups",
                "display_name": f"limit {tag}",
                "actions": ["iam-groups.groups.read"],
            }
            return post("/v2/roles", json=body, headers=self.headers)
        if kind == "groups":
            return post(
                "/v2/groups",
                params={"account_id": self.account},
                json={"name": f"limit {tag}"},
                headers=self.headers,
            )
        if kind == "memberships":
            # `parent` is the member; each call puts it in one more new group.
            group = self.create("groups", http=http)
            assert group.status_code == 201, group.text
            return http.put(
                f"/v2/groups/{group.json()['id']}/members",
                json={"members": [{"iam_id": parent, "type": "user"}]},
                headers=self.headers,
            )
        if kind == "rules":
            return post(f"/v2/groups/{parent}/rules", json=RULE, headers=self.headers)
        if kind == "service_ids":
            body = {"account_id": self.account, "name": f"limit {tag}"}
            return post("/v1/serviceids/", json=body, headers=self.headers)
        if kind == "profiles":
            body = {"account_id": self.account, "name": f"limit {tag}"}
            return post("/v1/profiles", json=body, headers=self.headers)
        if kind == "api_keys":
            body = {"name": f"limit {tag}", "iam_id": parent or self.owner}
            return post("/v1/apikeys", json=body, headers=self.headers)
        raise ValueError(kind)


def new_tenant(server: LiveServer, http: httpx.Client) -> Tenant:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"limits {tag}", f"l.{tag}@example.com", None)
    token = token_for(http, made.owner_key.value)
    return Tenant(
        server, made.account.id, made.owner.iam_id, {"Authorization": f"Bearer {token}"}, http
    )


def policy(iam_id: str, account_id: str) -> dict[str, Any]:
    """A v2 access policy granting Viewer to `iam_id` on the account's Key Protect."""
    attributes = [
        {"key": "accountId", "operator": "stringEquals", "value": account_id},
        {"key": "serviceName", "operator": "stringEquals", "value": "kms"},
    ]
    return {
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": iam_id}]},
        "resource": {"attributes": attributes},
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }


def is_quota_refusal(response: httpx.Response, path: str, limit_name: str) -> bool:
    """IBM's answer to a create past a limit: 422 in the path's API family's envelope, code
    `quota_exceeded`, and a message naming the limit."""
    if response.status_code != 422:
        return False
    body = response.json()
    error = body["errors"][0]
    expected_status: object = "422" if path.startswith(IDENTITY_PATHS) else 422
    return (
        body["status_code"] == expected_status
        and error["code"] == "quota_exceeded"
        and f"`{limit_name}`" in error["message"]
        and bool(body.get("trace"))
    )
