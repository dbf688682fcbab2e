"""Hypothesis stateful API model (reliability.md A2).

A `RuleBasedStateMachine` drives the ASGI app in process (`InProcessClient`) as an account's
owner would: service IDs (locked and unlocked too), API keys (a service ID's and the owner's;
disabled and enabled too), access groups and their members, v1 and v2 policies on an `iam_id`
or an access group with platform, service and custom roles (deleted by DELETE or PATCH, and
restored), custom roles, updates with `If-Match` (the tag last read, or a stale one that must get
412), API key -> token exchange and a call made with that token, and Key Protect keys through
their lifecycle (create, disable/enable, rotate, set/unset for deletion with a second actor,
delete, restore, purge) on a clock the machine moves. `api_model.py` runs alongside.

Checked after every step (`@invariant`): every listing equals the model (service IDs, API keys,
groups, members, policies through v1 and v2, custom roles, keys with their states); `POST
/v2/authz` for every (subject, action, resource) of a fixed probe set equals the model's own
decision; the account's audit events number exactly what the model counted (every mutating
request whatever its answer, every token exchange, every 403); deleted objects answer 404 (a
deleted policy reads back as `state: deleted`). Every update checks that the object's entity
tag changed, never repeats and its version prefix grew.

Each example starts from a fresh account with its own Key Protect instance, so examples are
independent; one database per backend and test run (PostgreSQL: a scratch database).

Default: 15 runs x 30 steps per backend (derandomized). STRONGROOM_HEAVY=1: 200 x 50, random
(reliability.md "PR" size). The nightly size: STRONGROOM_STATEFUL_RUNS=10000
STRONGROOM_STATEFUL_STEPS=100.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.policy.catalog import Catalog, load_catalog
from strongroom.store.sql import tables as t
from strongroom.testing import FrozenClock, InProcessClient
from tests.conftest import SERVER_BACKENDS, database_url_for
from tests.reliability import HEAVY
from tests.reliability.api_model import (
    PUBLIC_ACCESS,
    ApiKeyM,
    GroupM,
    KeyM,
    Model,
    PolicyM,
    RoleM,
    ServiceIdM,
)

RUNS = int(os.environ.get("STRONGROOM_STATEFUL_RUNS", "200" if HEAVY else "15"))
STEPS = int(os.environ.get("STRONGROOM_STATEFUL_STEPS", "50" if HEAVY else "30"))
# STRONGROOM_STATEFUL_SHRINK=0 reports the first failing sequence as found (while developing:
# shrinking a long sequence against a real database can take minutes).
PHASES = (
    [Phase.explicit, Phase.generate]
    if os.environ.get("STRONGROOM_STATEFUL_SHRINK") == "0"
    else list(Phase)
)

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
MANAGER = "crn:v1:bluemix:public:iam::::serviceRole:Manager"
KEY_PURGE = "crn:v1:bluemix:public:kms::::serviceRole:KeyPurge"
SYSTEM_ROLES = [
    "crn:v1:bluemix:public:iam::::role:Viewer",
    "crn:v1:bluemix:public:iam::::role:Editor",
    "crn:v1:bluemix:public:iam::::role:Administrator",
    "crn:v1:bluemix:public:iam::::serviceRole:Reader",
    "crn:v1:bluemix:public:iam::::serviceRole:Writer",
    MANAGER,
]
MAX_KEYS_PER_IDENTITY = 20  # limits.yaml api_keys_per_identity
MAX_CUSTOM_ROLES = 40  # limits.yaml custom_roles_per_account
# A member that is no identity of the account, and one that is in no group: both still asked.
MEMBER = "IBMid-MEMBER0001"
OUTSIDER = "iam-ServiceId-00000000-0000-0000-0000-000000000000"

# The actions the probes ask about, and custom roles are made of: a few per service that the
# catalog's roles grant differently (every role of a service grants a different subset).
ACTIONS = {
    "kms": [
        "kms.instances.read",
        "kms.secrets.list",
        "kms.secrets.read",
        "kms.secrets.wrap",
        "kms.secrets.create",
        "kms.secrets.delete",
        "kms.secrets.purge",
        "kms.policies.read",
    ],
    "iam-identity": [
        "iam-identity.serviceid.list",
        "iam-identity.serviceid.create",
        "iam-identity.apikey.update",
        "iam-identity.apikey.lock",
    ],
    "iam-groups": [
        "iam-groups.groups.read",
        "iam-groups.groups.create",
        "iam-groups.settings.update",
    ],
    "iam-access-management": [
        "iam-access-management.policies.read",
        "iam-access-management.policies.create",
    ],
}
CUSTOM_ROLE_SERVICES = ["kms", "iam-identity", "iam-groups"]
MAX_PROBED_SERVICE_IDS = 6
SEEN: Counter[str] = Counter()  # (method, route, status) the runs reached; printed with -s


@dataclass
class World:
    runtime: Any
    client: InProcessClient
    kms_clock: FrozenClock
    catalog: Catalog


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One runtime per backend; every Hypothesis example makes its own account in it."""
    tmp = tmp_path_factory.mktemp(f"stateful-{request.param}")
    with ExitStack() as stack:
        url = database_url_for(request.param, stack, str(tmp))
        kms_clock = FrozenClock(datetime.now(UTC))
        settings_ = Settings(data_dir=Path(tmp), database_url=url, bootstrap_apikey="s" * 40)
        runtime = bootstrap.build(settings_, None, kms_clock)
        stack.callback(runtime.close)
        yield World(runtime, InProcessClient(runtime.app), kms_clock, load_catalog())


def _mutating(method: str, path: str) -> bool:
    return method in ("POST", "PUT", "PATCH", "DELETE") and not path.startswith("/v2/authz")


class ApiMachine(RuleBasedStateMachine):
    """Set `world` on a subclass before running it (see the test below)."""

    world: World

    service_ids = Bundle("service_ids")
    api_keys = Bundle("api_keys")
    groups = Bundle("groups")
    policies = Bundle("policies")
    roles = Bundle("roles")
    keys = Bundle("keys")

    # -- plumbing ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: int | tuple[int, ...],
        as_peer: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(self.peer_headers if as_peer else self.headers)
        headers.update(kwargs.pop("headers", {}))
        response = self.world.client.request(method, path, headers=headers, **kwargs)
        shape = re.sub(r"/[^/]*[0-9a-f]{8}[^/]*", "/{id}", path.split("?")[0])
        SEEN[f"{method} {shape} -> {response.status_code}"] += 1
        if _mutating(method, path):
            self.model.events += 1
        wanted = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in wanted, (
            f"{method} {path}: {response.status_code}, expected {wanted}: {response.text[:500]}"
        )
        return response

    def kms(
        self, method: str, path: str, *, expect: int | tuple[int, ...], **kw: Any
    ) -> httpx.Response:
        headers = {"Bluemix-Instance": self.model.instance, **kw.pop("headers", {})}
        return self.call(method, f"/api/v2{path}", expect=expect, headers=headers, **kw)

    def exchange(self, value: str) -> httpx.Response:
        response = self.world.client.post(
            "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": value}
        )
        if response.status_code == 200:
            self.model.events += 1  # iam-identity.apikey.login, in the key's account
        return response

    def audit_count(self) -> int:
        events = t.audit_events
        query = sa.select(sa.func.count()).where(events.c.account_id == self.model.account)
        with self.world.runtime.database.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def new_tag(obj: Any, response: httpx.Response) -> None:
        """An update's entity tag: new, never seen before for this object, its version up."""
        tag = response.headers["ETag"]
        assert tag not in obj.seen, f"{obj.id}: entity tag {tag} repeats"
        assert int(tag.split("-")[0]) > int(obj.etag.split("-")[0]), (obj.id, obj.etag, tag)
        obj.etag = tag
        obj.seen.append(tag)

    def if_match(self, obj: Any, stale: bool) -> tuple[str, bool]:
        """The tag to send: the last read, or an older one when asked and there is one."""
        if stale and len(obj.seen) > 1:
            return obj.seen[-2], True
        return obj.etag, False

    # -- a fresh account per example -----------------------------------------------------------

    @initialize()
    def fresh_account(self) -> None:
        tag = uuid.uuid4().hex[:8]
        identity = self.world.runtime.container.identity
        made = identity.create_account(f"a2 {tag}", f"a2.{tag}@example.com", None)
        token = self.world.client.post(
            "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": made.owner_key.value}
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        acct = made.account.id
        rg = self.world.client.post(
            "/v2/resource_groups", json={"name": "a2"}, headers=self.headers
        )
        body = {
            "name": "kp",
            "target": "us-south",
            "resource_group": rg.json()["id"],
            "resource_plan_id": KMS_PLAN,
        }
        instance = self.world.client.post("/v2/resource_instances", json=body, headers=self.headers)
        assert instance.status_code == 201, instance.text
        self.model = Model(self.world.catalog, acct, made.owner.iam_id, instance.json()["guid"])
        owner_key = made.owner_key.key
        self.model.api_keys[owner_key.id] = ApiKeyM(
            owner_key.id,
            owner_key.meta.entity_tag,
            iam_id=made.owner.iam_id,
            name=owner_key.name,
            value=made.owner_key.value,
        )
        seeded = self.call("GET", "/v2/policies", expect=200, params={"account_id": acct})
        for policy in seeded.json()["policies"]:  # the owner's two (access/owner.py)
            self.model.policies[policy["id"]] = self._policy_from(policy, "v2")
        # The second actor dual authorization needs: a service ID with Manager and KeyPurge on kms.
        peer = self.call(
            "POST",
            "/v1/serviceids/",
            expect=201,
            json={"account_id": acct, "name": "kms-peer", "apikey": {"name": "peer"}},
        ).json()
        self.model.service_ids[peer["id"]] = ServiceIdM(
            peer["id"], peer["entity_tag"], iam_id=peer["iam_id"], name="kms-peer"
        )
        key = peer["apikey"]
        self.model.api_keys[key["id"]] = ApiKeyM(
            key["id"], key["entity_tag"], iam_id=peer["iam_id"], name="peer", value=key["apikey"]
        )
        self.peer = peer["iam_id"]
        made_policy = self.call(
            "POST",
            "/v2/policies",
            expect=201,
            json=self._v2_body("iam_id", self.peer, {"serviceName": "kms"}, [MANAGER, KEY_PURGE]),
        )
        self.model.policies[made_policy.json()["id"]] = self._policy_from(made_policy.json(), "v2")
        exchanged = self.exchange(key["apikey"])
        assert exchanged.status_code == 200, exchanged.text
        self.peer_headers = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
        self.baseline = self.audit_count() - self.model.events

    # -- policies: bodies and readers ----------------------------------------------------------

    def _resource(self, extra: dict[str, str]) -> dict[str, str]:
        return {"accountId": self.model.account, **extra}

    def _v2_body(
        self, subject_key: str, subject: str, resource: dict[str, str], roles: list[str]
    ) -> dict[str, Any]:
        attrs = [
            {"key": k, "operator": "stringEquals", "value": v}
            for k, v in self._resource(resource).items()
        ]
        return {
            "type": "access",
            "subject": {
                "attributes": [{"key": subject_key, "operator": "stringEquals", "value": subject}]
            },
            "resource": {"attributes": attrs},
            "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
        }

    def _v1_body(
        self, subject_key: str, subject: str, resource: dict[str, str], roles: list[str]
    ) -> dict[str, Any]:
        return {
            "type": "access",
            "subjects": [{"attributes": [{"name": subject_key, "value": subject}]}],
            "roles": [{"role_id": r} for r in roles],
            "resources": [
                {
                    "attributes": [
                        {"name": k, "value": v} for k, v in self._resource(resource).items()
                    ]
                }
            ],
        }

    @staticmethod
    def _policy_from(doc: dict[str, Any], version: str) -> PolicyM:
        if "subject" in doc:  # v2 shape
            (subject,) = doc["subject"]["attributes"]
            resource = {a["key"]: a["value"] for a in doc["resource"]["attributes"]}
            roles = tuple(r["role_id"] for r in doc["control"]["grant"]["roles"])
            key = subject["key"]
        else:
            (subject,) = doc["subjects"][0]["attributes"]
            resource = {a["name"]: a["value"] for a in doc["resources"][0]["attributes"]}
            roles = tuple(r["role_id"] for r in doc["roles"])
            key = subject["name"]
        return PolicyM(
            doc["id"],
            "0-unread",
            version=version,
            subject_key=key,
            subject=subject["value"],
            resource=resource,
            roles=roles,
        )

    # -- service IDs ---------------------------------------------------------------------------

    @rule(
        target=service_ids,
        name=st.sampled_from(["build", "deploy", "audit"]),
        with_key=st.booleans(),
    )
    def create_service_id(self, name: str, with_key: bool) -> str:
        body: dict[str, Any] = {"account_id": self.model.account, "name": name}
        if with_key:
            body["apikey"] = {"name": f"{name}-key"}
        made = self.call("POST", "/v1/serviceids/", expect=201, json=body).json()
        assert made["entity_tag"] and made["iam_id"] == "iam-" + made["id"]
        self.model.service_ids[made["id"]] = ServiceIdM(
            made["id"], made["entity_tag"], iam_id=made["iam_id"], name=name
        )
        if with_key:
            key = made["apikey"]
            self.model.api_keys[key["id"]] = ApiKeyM(
                key["id"],
                key["entity_tag"],
                iam_id=made["iam_id"],
                name=key["name"],
                value=key["apikey"],
            )
        return str(made["id"])

    @rule(sid=service_ids, name=st.sampled_from(["renamed", "other"]), stale=st.booleans())
    def update_service_id(self, sid: str, name: str, stale: bool) -> None:
        current = self.model.service_ids.get(sid)
        path = f"/v1/serviceids/{sid}"
        if current is None:
            self.call("PUT", path, expect=404, json={"name": name}, headers={"If-Match": "1-0"})
            return
        tag, is_stale = self.if_match(current, stale)
        if is_stale:
            self.call("PUT", path, expect=412, json={"name": name}, headers={"If-Match": tag})
            return
        if current.locked:
            self.call("PUT", path, expect=409, json={"name": name}, headers={"If-Match": tag})
            return
        done = self.call("PUT", path, expect=200, json={"name": name}, headers={"If-Match": tag})
        assert done.json()["name"] == name
        self.new_tag(current, done)
        current.name = name

    @rule(sid=service_ids)
    def delete_service_id(self, sid: str) -> None:
        current = self.model.service_ids.get(sid)
        if current is None:
            self.call("DELETE", f"/v1/serviceids/{sid}", expect=404)
            return
        if current.locked:
            self.call("DELETE", f"/v1/serviceids/{sid}", expect=409)
            return
        del self.model.service_ids[sid]
        self.call("DELETE", f"/v1/serviceids/{sid}", expect=204)
        self.model.gone_iam_ids[current.iam_id] = None
        self.model.deleted[sid] = f"/v1/serviceids/{sid}"
        for key in [k for k in self.model.api_keys.values() if k.iam_id == current.iam_id]:
            del self.model.api_keys[key.id]
            self.model.deleted[key.id] = f"/v1/apikeys/{key.id}"

    @rule(sid=service_ids, lock=st.booleans())
    def lock_service_id(self, sid: str, lock: bool) -> None:
        current = self.model.service_ids.get(sid)
        method = "POST" if lock else "DELETE"
        if current is None:
            self.call(method, f"/v1/serviceids/{sid}/lock", expect=404)
            return
        self.call(method, f"/v1/serviceids/{sid}/lock", expect=204)
        if current.locked != lock:
            read = self.call("GET", f"/v1/serviceids/{sid}", expect=200)
            assert read.json()["locked"] is lock
            self.new_tag(current, read)
        current.locked = lock

    # -- API keys ------------------------------------------------------------------------------

    @rule(target=api_keys, sid=service_ids, for_owner=st.booleans())
    def create_api_key(self, sid: str, for_owner: bool) -> Any:
        owner = self.model.service_ids.get(sid)
        iam_id = self.model.owner if for_owner else (owner.iam_id if owner else "iam-" + sid)
        body = {"name": "k", "iam_id": iam_id, "account_id": self.model.account}
        if not for_owner and owner is None:
            self.call("POST", "/v1/apikeys", expect=404, json=body)
            return multiple()
        held = sum(1 for k in self.model.api_keys.values() if k.iam_id == iam_id)
        if held >= MAX_KEYS_PER_IDENTITY:
            self.call("POST", "/v1/apikeys", expect=422, json=body)
            return multiple()
        made = self.call("POST", "/v1/apikeys", expect=201, json=body).json()
        assert made["iam_id"] == iam_id and made["apikey"]
        self.model.api_keys[made["id"]] = ApiKeyM(
            made["id"], made["entity_tag"], iam_id=iam_id, name="k", value=made["apikey"]
        )
        return made["id"]

    @rule(key=api_keys, name=st.sampled_from(["k2", "k3"]), stale=st.booleans())
    def update_api_key(self, key: str, name: str, stale: bool) -> None:
        current = self.model.api_keys.get(key)
        path = f"/v1/apikeys/{key}"
        if current is None:
            self.call("PUT", path, expect=404, json={"name": name}, headers={"If-Match": "1-0"})
            return
        tag, is_stale = self.if_match(current, stale)
        if is_stale:
            self.call("PUT", path, expect=412, json={"name": name}, headers={"If-Match": tag})
            return
        done = self.call("PUT", path, expect=200, json={"name": name}, headers={"If-Match": tag})
        self.new_tag(current, done)
        current.name = name

    @rule(key=api_keys)
    def delete_api_key(self, key: str) -> None:
        if self.model.api_keys.pop(key, None) is None:
            self.call("DELETE", f"/v1/apikeys/{key}", expect=404)
            return
        self.call("DELETE", f"/v1/apikeys/{key}", expect=204)
        self.model.deleted[key] = f"/v1/apikeys/{key}"

    @rule(disable=st.booleans(), data=st.data())
    def disable_api_key(self, disable: bool, data: st.DataObject) -> None:
        """Any key of the account (a service ID's, the owner's, a deleted one): the bundle
        holds only the keys `create_api_key` made."""
        gone = [k for k, path in self.model.deleted.items() if path.startswith("/v1/apikeys")]
        key = data.draw(st.sampled_from([*self.model.api_keys, *gone[-1:]]), label="key")
        current = self.model.api_keys.get(key)
        method = "POST" if disable else "DELETE"
        if current is None:
            self.call(method, f"/v1/apikeys/{key}/disable", expect=404)
            return
        self.call(method, f"/v1/apikeys/{key}/disable", expect=204)
        if current.disabled != disable:
            read = self.call("GET", f"/v1/apikeys/{key}", expect=200)
            assert read.json()["disabled"] is disable
            self.new_tag(current, read)
        current.disabled = disable

    @precondition(lambda self: bool(self.model.api_keys))
    @rule(data=st.data())
    def exchange_and_use(self, data: st.DataObject) -> None:
        """Exchange an API key (a live one, or one deleted) for a token, then list service IDs
        with it: 200 exactly when the model's decision point permits the listing."""
        gone = [k for k, path in self.model.deleted.items() if path.startswith("/v1/apikeys")]
        live = list(self.model.api_keys)
        key_id = data.draw(st.sampled_from(live + gone[-2:]), label="key")
        known = self.model.api_keys.get(key_id)
        if known is None:
            # A deleted key's value is not kept; any unknown value is refused the same way.
            response = self.exchange("gone-" + uuid.uuid4().hex + uuid.uuid4().hex)
            assert response.status_code == 400, response.text
            return
        response = self.exchange(known.value)
        SEEN[f"token exchange, {'disabled' if known.disabled else 'live'} key"] += 1
        if known.disabled:  # refused as an unknown key is (reliability.md T5)
            assert response.status_code == 400, response.text
            return
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        allowed = self.model.permits(
            known.iam_id,
            "iam-identity.serviceid.list",
            {"accountId": self.model.account, "serviceName": "iam-identity"},
        )
        listed = self.world.client.get(
            "/v1/serviceids/",
            params={"account_id": self.model.account},
            headers={"Authorization": f"Bearer {token}"},
        )
        if not allowed:
            self.model.events += 1  # a 403 is audited
        assert listed.status_code == (200 if allowed else 403), listed.text

    # -- access groups and members -------------------------------------------------------------

    @rule(target=groups, name=st.sampled_from(["ops", "dev", "Ops", "audit"]))
    def create_group(self, name: str) -> Any:
        taken = any(g.name.casefold() == name.casefold() for g in self.model.groups.values())
        path = f"/v2/groups?account_id={self.model.account}"
        if taken:
            self.call("POST", path, expect=409, json={"name": name})
            return multiple()
        made = self.call("POST", path, expect=201, json={"name": name})
        group = GroupM(made.json()["id"], made.headers["ETag"], name=name)
        self.model.groups[group.id] = group
        return group.id

    @rule(group=groups, name=st.sampled_from(["qa", "sre"]), stale=st.booleans())
    def update_group(self, group: str, name: str, stale: bool) -> None:
        current = self.model.groups.get(group)
        path = f"/v2/groups/{group}"
        if current is None:
            self.call("PATCH", path, expect=404, json={"name": name}, headers={"If-Match": "1-0"})
            return
        tag, is_stale = self.if_match(current, stale)
        clash = any(
            g.name.casefold() == name.casefold() and g.id != group
            for g in self.model.groups.values()
        )
        if is_stale:
            self.call("PATCH", path, expect=412, json={"name": name}, headers={"If-Match": tag})
            return
        if clash:
            self.call("PATCH", path, expect=409, json={"name": name}, headers={"If-Match": tag})
            return
        done = self.call("PATCH", path, expect=200, json={"name": name}, headers={"If-Match": tag})
        self.new_tag(current, done)
        current.name = name

    @rule(group=groups, force=st.booleans())
    def delete_group(self, group: str, force: bool) -> None:
        current = self.model.groups.get(group)
        path = f"/v2/groups/{group}" + ("?force=true" if force else "")
        if current is None:
            self.call("DELETE", path, expect=404)
            return
        if current.members and not force:
            self.call("DELETE", path, expect=409)
            return
        self.call("DELETE", path, expect=204)
        del self.model.groups[group]
        self.model.deleted[group] = f"/v2/groups/{group}"
        for policy in [p for p in self.model.policies.values() if p.subject == group]:
            del self.model.policies[policy.id]  # spec §5.1: its policies go with it
            self.model.deleted[policy.id] = f"/v2/policies/{policy.id}"
            self.model.deleted_policies[policy.id] = policy

    def _subject_choices(self) -> list[str]:
        return [
            self.model.owner,
            MEMBER,
            *(s.iam_id for s in self.model.service_ids.values()),
        ]

    @rule(group=groups, data=st.data())
    def add_member(self, group: str, data: st.DataObject) -> None:
        iam_id = data.draw(st.sampled_from(self._subject_choices()), label="member")
        kind = "service" if iam_id.startswith("iam-ServiceId") else "user"
        body = {"members": [{"iam_id": iam_id, "type": kind}]}
        current = self.model.groups.get(group)
        if current is None:
            self.call("PUT", f"/v2/groups/{group}/members", expect=404, json=body)
            return
        done = self.call("PUT", f"/v2/groups/{group}/members", expect=207, json=body)
        assert [m["status_code"] for m in done.json()["members"]] == [200], done.text
        current.members[iam_id] = None

    @rule(group=groups, data=st.data())
    def remove_member(self, group: str, data: st.DataObject) -> None:
        current = self.model.groups.get(group)
        choices = list(current.members) if current and current.members else [MEMBER]
        iam_id = data.draw(st.sampled_from(choices), label="member")
        path = f"/v2/groups/{group}/members/{iam_id}"
        if current is None or iam_id not in current.members:
            self.call("DELETE", path, expect=404)
            return
        self.call("DELETE", path, expect=204)
        del current.members[iam_id]

    # -- policies ------------------------------------------------------------------------------

    def _draw_policy(self, data: st.DataObject) -> tuple[str, str, dict[str, str], list[str]]:
        subjects = [("iam_id", s) for s in self._subject_choices()]
        subjects += [("iam_id", s) for s in list(self.model.gone_iam_ids)[:1]]
        subjects += [("access_group_id", g) for g in [PUBLIC_ACCESS, *self.model.groups]]
        subject_key, subject = data.draw(st.sampled_from(subjects), label="subject")
        shape = data.draw(st.sampled_from(["service", "instance", "type"]), label="resource")
        if shape == "type":
            kind = data.draw(st.sampled_from(["service", "platform_service"]), label="type")
            resource = {"serviceType": kind}
            choices = SYSTEM_ROLES
        else:
            service = (
                "kms"
                if shape == "instance"
                else data.draw(st.sampled_from(sorted(ACTIONS)), label="service")
            )
            resource = {"serviceName": service}
            if shape == "instance":
                resource["serviceInstance"] = self.model.instance
            found = self.world.catalog.service(service)
            assert found is not None
            custom = [r.crn for r in self.model.roles.values() if r.service == service]
            choices = sorted(found.roles) + custom
        roles = data.draw(
            st.lists(st.sampled_from(choices), min_size=1, max_size=2, unique=True), label="roles"
        )
        return subject_key, subject, resource, roles

    @rule(target=policies, version=st.sampled_from(["v1", "v2"]), data=st.data())
    def create_policy(self, version: str, data: st.DataObject) -> Any:
        made = self.make_policy(version, *self._draw_policy(data))
        return multiple() if made is None else made

    def make_policy(
        self,
        version: str,
        subject_key: str,
        subject: str,
        resource: dict[str, str],
        roles: list[str],
    ) -> str | None:
        """A policy as drawn (also called directly by the regression tests below)."""
        maker = self._v1_body if version == "v1" else self._v2_body
        if self.model.locked(subject):
            body = maker(subject_key, subject, resource, roles)
            self.call("POST", f"/{version}/policies", expect=409, json=body)
            return None
        made = self.call(
            "POST",
            f"/{version}/policies",
            expect=201,
            json=maker(subject_key, subject, resource, roles),
        )
        policy = self._policy_from(made.json(), version)
        policy.etag = made.headers["ETag"]
        policy.seen = [policy.etag]
        assert (policy.subject_key, policy.subject, policy.roles) == (
            subject_key,
            subject,
            tuple(roles),
        )
        assert policy.resource == self._resource(resource)
        self.model.policies[policy.id] = policy
        return policy.id

    @rule(policy=policies, stale=st.booleans(), data=st.data())
    def replace_policy(self, policy: str, stale: bool, data: st.DataObject) -> None:
        self.put_policy(policy, stale, *self._draw_policy(data))

    def put_policy(
        self,
        policy: str,
        stale: bool,
        subject_key: str,
        subject: str,
        resource: dict[str, str],
        roles: list[str],
    ) -> None:
        current = self.model.policies.get(policy)
        version = current.version if current else "v2"
        body = (self._v1_body if version == "v1" else self._v2_body)(
            subject_key, subject, resource, roles
        )
        path = f"/{version}/policies/{policy}"
        if current is None:  # kept as `state: deleted`: refused until restored (PATCH state)
            self.call("PUT", path, expect=400, json=body, headers={"If-Match": "1-0"})
            return
        tag, is_stale = self.if_match(current, stale)
        if is_stale:
            self.call("PUT", path, expect=412, json=body, headers={"If-Match": tag})
            return
        if self.model.locked(current.subject) or self.model.locked(subject):
            # Neither to nor away from a locked service ID: moving a policy away would delete
            # the locked subject's access, which DELETE refuses (spec §6.1).
            self.call("PUT", path, expect=409, json=body, headers={"If-Match": tag})
            return
        done = self.call("PUT", path, expect=200, json=body, headers={"If-Match": tag})
        self.new_tag(current, done)
        current.subject_key, current.subject = subject_key, subject
        current.resource, current.roles = self._resource(resource), tuple(roles)

    @rule(policy=policies, by_patch=st.booleans())
    def delete_policy(self, policy: str, by_patch: bool) -> None:
        """`DELETE`, or `PATCH /v1/policies/{id}` with `state: deleted` and the tag last read
        (spec §6.1): the same change, so the same refusals."""
        current = self.model.policies.get(policy)
        version = current.version if current else "v2"
        if by_patch:
            tag = current.etag if current else "1-0"
            send: dict[str, Any] = {"json": {"state": "deleted"}, "headers": {"If-Match": tag}}
            method, path = "PATCH", f"/v1/policies/{policy}"
            done, gone = 200, (412, 200)  # a deleted one: its tag moved, or it is already so
        else:
            send, method, path = {}, "DELETE", f"/{version}/policies/{policy}"
            done, gone = 204, (404,)
        if current is None:
            if by_patch and policy not in self.model.deleted_policies:
                gone = (404,)
            self.call(method, path, expect=gone, **send)
            return
        if self.model.locked(current.subject):
            self.call(method, path, expect=409, **send)
            return
        answered = self.call(method, path, expect=done, **send)
        if by_patch:
            self.new_tag(current, answered)
        del self.model.policies[policy]
        self.model.deleted[policy] = f"/v2/policies/{policy}"
        self.model.deleted_policies[policy] = current

    @precondition(lambda self: bool(self.model.deleted_policies))
    @rule(data=st.data())
    def restore_policy(self, data: st.DataObject) -> None:
        """`PATCH /v1/policies/{id}` with `state: active` (spec §6.1), with the tag read; refused
        when a custom role it names has gone meanwhile."""
        policy = data.draw(st.sampled_from(list(self.model.deleted_policies)), label="policy")
        current = self.model.deleted_policies[policy]
        read = self.call("GET", f"/v1/policies/{policy}", expect=200)
        assert read.json()["state"] == "deleted"
        if read.headers["ETag"] != current.etag:  # a DELETE: a write whose tag was not seen
            self.new_tag(current, read)
        path, body = f"/v1/policies/{policy}", {"state": "active"}
        customs = {r.crn for r in self.model.roles.values()}
        if any(":customRole:" in r and r not in customs for r in current.roles):
            self.call("PATCH", path, expect=400, json=body, headers={"If-Match": current.etag})
            return
        if self.model.locked(current.subject):
            self.call("PATCH", path, expect=409, json=body, headers={"If-Match": current.etag})
            return
        done = self.call("PATCH", path, expect=200, json=body, headers={"If-Match": current.etag})
        self.new_tag(current, done)
        del self.model.deleted_policies[policy], self.model.deleted[policy]
        self.model.policies[policy] = current

    # -- custom roles --------------------------------------------------------------------------

    @rule(target=roles, name=st.sampled_from(["Alpha", "Beta", "Gamma"]), data=st.data())
    def create_role(self, name: str, data: st.DataObject) -> Any:
        service = data.draw(st.sampled_from(CUSTOM_ROLE_SERVICES), label="service")
        actions = data.draw(
            st.lists(st.sampled_from(ACTIONS[service]), min_size=1, max_size=3, unique=True),
            label="actions",
        )
        body = {
            "name": name,
            "account_id": self.model.account,
            "service_name": service,
            "display_name": name.lower(),
            "actions": actions,
        }
        if any(r.name == name for r in self.model.roles.values()):
            self.call("POST", "/v2/roles", expect=409, json=body)
            return multiple()
        if len(self.model.roles) >= MAX_CUSTOM_ROLES:
            self.call("POST", "/v2/roles", expect=422, json=body)
            return multiple()
        made = self.call("POST", "/v2/roles", expect=201, json=body)
        doc = made.json()
        role = RoleM(
            doc["id"],
            made.headers["ETag"],
            name=name,
            crn=doc["crn"],
            service=service,
            actions=tuple(actions),
        )
        self.model.roles[role.id] = role
        return role.id

    @rule(role=roles, stale=st.booleans(), data=st.data())
    def replace_role(self, role: str, stale: bool, data: st.DataObject) -> None:
        current = self.model.roles.get(role)
        service = current.service if current else "kms"
        actions = data.draw(
            st.lists(st.sampled_from(ACTIONS[service]), min_size=1, max_size=3, unique=True),
            label="actions",
        )
        body = {"display_name": "changed", "actions": actions}
        path = f"/v2/roles/{role}"
        if current is None:
            self.call("PUT", path, expect=404, json=body, headers={"If-Match": "1-0"})
            return
        tag, is_stale = self.if_match(current, stale)
        if is_stale:
            self.call("PUT", path, expect=412, json=body, headers={"If-Match": tag})
            return
        done = self.call("PUT", path, expect=200, json=body, headers={"If-Match": tag})
        self.new_tag(current, done)
        current.actions = tuple(actions)

    @rule(role=roles)
    def delete_role(self, role: str) -> None:
        current = self.model.roles.get(role)
        if current is None:
            self.call("DELETE", f"/v2/roles/{role}", expect=404)
            return
        if any(current.crn in p.roles for p in self.model.policies.values()):
            self.call("DELETE", f"/v2/roles/{role}", expect=409)  # in use (spec §6.3)
            return
        self.call("DELETE", f"/v2/roles/{role}", expect=204)
        del self.model.roles[role]
        self.model.deleted[role] = f"/v2/roles/{role}"

    # -- Key Protect keys ----------------------------------------------------------------------

    @rule(target=keys, root=st.booleans(), dual=st.booleans())
    def create_key(self, root: bool, dual: bool) -> str:
        resource: dict[str, Any] = {"type": KEY_TYPE, "name": "key-a", "extractable": not root}
        path = "/keys"
        if dual:
            path = "/keys_with_policy_overrides"
            resource["dualAuthDelete"] = {"enabled": True}
        body = {
            "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
            "resources": [resource],
        }
        made = self.kms("POST", path, expect=201, json=body).json()["resources"][0]
        assert made["state"] == 1 and made["extractable"] is (not root), made
        self.model.keys[made["id"]] = KeyM(made["id"], root=root, dual_auth=dual)
        return str(made["id"])

    # One rule per part of the lifecycle, so that keys get their share of the steps.
    @rule(key=keys, action=st.sampled_from(["disable", "enable"]), as_peer=st.booleans())
    def toggle_key(self, key: str, action: str, as_peer: bool) -> None:
        self.key_action(key, action, as_peer)

    @rule(key=keys, as_peer=st.booleans())
    def rotate_key(self, key: str, as_peer: bool) -> None:
        self.key_action(key, "rotate", as_peer)

    @rule(key=keys, action=st.sampled_from(["delete", "restore", "purge"]), as_peer=st.booleans())
    def delete_restore_purge_key(self, key: str, action: str, as_peer: bool) -> None:
        self.key_action(key, action, as_peer)

    @rule(
        key=keys,
        action=st.sampled_from(["setKeyForDeletion", "unsetKeyForDeletion"]),
        as_peer=st.booleans(),
    )
    def dual_authorization(self, key: str, action: str, as_peer: bool) -> None:
        self.key_action(key, action, as_peer)

    def key_action(self, key: str, action: str, as_peer: bool) -> None:
        current = self.model.keys[key]
        caller = self.peer if as_peer else self.model.owner
        iam_action = "kms.secrets." + action.lower()
        resource = {
            "accountId": self.model.account,
            "serviceName": "kms",
            "serviceInstance": self.model.instance,
        }
        if not self.model.permits(caller, iam_action, resource):
            expect = 401  # Key Protect answers a refusal with 401 (spec kms-api.md §1.5)
        else:
            expect = self.model.key_action(current, action, self.world.kms_clock.now(), caller)
        if action == "delete":
            self.kms("DELETE", f"/keys/{key}", expect=expect, as_peer=as_peer)
        elif action == "purge":
            self.kms("DELETE", f"/keys/{key}/purge", expect=expect, as_peer=as_peer)
        elif action == "restore":
            self.kms(
                "POST",
                f"/keys/{key}/restore",
                expect=201 if expect == 204 else expect,
                as_peer=as_peer,
            )
        else:
            self.kms("POST", f"/keys/{key}/actions/{action}", expect=expect, as_peer=as_peer)
        if current.state == 0:
            self.model.deleted[key] = f"/api/v2/keys/{key}"

    @precondition(lambda self: bool(self.model.keys))
    @rule(seconds=st.sampled_from([10, 31, 3601, 4 * 3600 + 1]))
    def advance_kms_clock(self, seconds: int) -> None:
        self.world.kms_clock.advance(seconds)

    # -- invariants ----------------------------------------------------------------------------

    def _list(self, path: str, field: str, **params: Any) -> list[dict[str, Any]]:
        found = self.call("GET", path, expect=200, params=params).json()
        return list(found[field])

    @invariant()
    def listings_equal_the_model(self) -> None:
        m, acct = self.model, self.model.account
        sids = self._list("/v1/serviceids/", "serviceids", account_id=acct, pagesize=100)
        assert {s["id"]: (s["name"], s["entity_tag"]) for s in sids} == {
            s.id: (s.name, s.etag) for s in m.service_ids.values()
        }
        keys = self._list("/v1/apikeys", "apikeys", account_id=acct, scope="account", pagesize=100)
        assert {k["id"]: (k["iam_id"], k["name"], k["entity_tag"]) for k in keys} == {
            k.id: (k.iam_id, k.name, k.etag) for k in m.api_keys.values()
        }
        groups = self._list("/v2/groups", "groups", account_id=acct, limit=100)
        assert {g["id"]: g["name"] for g in groups if g["id"] != PUBLIC_ACCESS} == {
            g.id: g.name for g in m.groups.values()
        }
        for group in m.groups.values():
            members = self._list(f"/v2/groups/{group.id}/members", "members", limit=100)
            assert {x["iam_id"] for x in members} == set(group.members), group.id
        for version in ("v1", "v2"):
            listed = self._list(f"/{version}/policies", "policies", account_id=acct, limit=100)
            found = {p["id"]: self._policy_from(p, version) for p in listed}
            assert {
                i: (p.subject_key, p.subject, p.resource, p.roles) for i, p in found.items()
            } == {
                p.id: (p.subject_key, p.subject, p.resource, p.roles) for p in m.policies.values()
            }, version
        custom = self.call("GET", "/v2/roles", expect=200, params={"account_id": acct}).json()
        assert {r["id"]: (r["name"], tuple(r["actions"])) for r in custom["custom_roles"]} == {
            r.id: (r.name, r.actions) for r in m.roles.values()
        }
        listed_keys = self.kms(
            "GET", "/keys", expect=200, params={"state": "1,2,3,5", "limit": 200}
        ).json()
        assert {k["id"]: k["state"] for k in listed_keys.get("resources", [])} == {
            k.id: k.state for k in m.keys.values() if k.state
        }

    def _probes(self) -> list[tuple[str, str, dict[str, str]]]:
        m = self.model
        sids = [s.iam_id for s in m.service_ids.values()][-MAX_PROBED_SERVICE_IDS:]
        subjects = [m.owner, MEMBER, OUTSIDER, *sids, *list(m.gone_iam_ids)[:1]]
        probes = []
        for subject in subjects:
            for service, actions in ACTIONS.items():
                resources = [{"accountId": m.account, "serviceName": service}]
                if service == "kms":
                    resources.append({**resources[0], "serviceInstance": m.instance})
                probes += [(subject, a, r) for a in actions for r in resources]
        return probes

    @invariant()
    def decisions_equal_the_model(self) -> None:
        probes = self._probes()
        body = [
            {"subject": {"attributes": {"id": s}}, "action": a, "resource": {"attributes": r}}
            for s, a, r in probes
        ]
        answers = self.call("POST", "/v2/authz", expect=200, json=body).json()["responses"]
        got = [r["authorizationDecision"]["permitted"] for r in answers]
        wanted = [self.model.permits(s, a, r) for s, a, r in probes]
        wrong = [p for p, g, w in zip(probes, got, wanted, strict=True) if g != w]
        assert not wrong, f"{len(wrong)} decisions differ from the model, e.g. {wrong[:3]}"

    @invariant()
    def audit_count_equals_the_mutations(self) -> None:
        assert self.audit_count() - self.baseline == self.model.events

    @invariant()
    def deleted_objects_answer_404(self) -> None:
        for gone, path in list(self.model.deleted.items())[-4:]:
            if path.startswith("/api/v2/"):
                answered = self.kms("GET", path.removeprefix("/api/v2"), expect=(404,))
            elif path.startswith("/v2/policies/"):
                answered = self.call("GET", path, expect=200)  # IBM keeps it, marked deleted
                assert answered.json()["state"] == "deleted", gone
            else:
                self.call("GET", path, expect=404)


def test_the_api_behaves_like_its_model(world: World) -> None:
    """reliability.md A2: 0 failures over RUNS examples of STEPS steps each, per backend."""

    class Machine(ApiMachine):
        pass

    Machine.world = world
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=RUNS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not HEAVY,
            database=None,
            phases=PHASES,
            suppress_health_check=list(HealthCheck),
        ),
    )
    for line, count in sorted(SEEN.items()):
        if not line.startswith("GET"):
            print(f"{count:7d}  {line}")
    SEEN.clear()


# -- failing sequences the machine found, shrunk by hand and kept as plain tests ---------------


def _replay(world: World) -> ApiMachine:
    """The machine at the start of an example (fresh account), to call its rules by hand."""

    class Machine(ApiMachine):
        pass

    Machine.world = world
    machine = Machine()
    machine.fresh_account()
    return machine


def _check(machine: ApiMachine) -> None:
    machine.listings_equal_the_model()
    machine.decisions_equal_the_model()
    machine.audit_count_equals_the_mutations()
    machine.deleted_objects_answer_404()


EDITOR = "crn:v1:bluemix:public:iam::::role:Editor"


def test_regression_patch_state_deleted_respects_a_locked_subject(world: World) -> None:
    """Found by A2: `DELETE /v2/policies/{id}` refused a policy of a locked service ID (409),
    but `PATCH /v1/policies/{id}` with `state: deleted` deleted it (200): the lock bypassed."""
    machine = _replay(world)
    sid = machine.create_service_id(name="build", with_key=False)
    iam_id = machine.model.service_ids[sid].iam_id
    policy = machine.make_policy("v1", "iam_id", iam_id, {"serviceName": "kms"}, [EDITOR])
    assert policy is not None
    machine.lock_service_id(sid, lock=True)
    machine.delete_policy(policy, by_patch=False)  # 409
    machine.delete_policy(policy, by_patch=True)  # was 200
    _check(machine)


def test_regression_replace_cannot_move_a_policy_off_a_locked_subject(world: World) -> None:
    """Found by A2 with the sequence above: `PUT` checked only the new subject, so a policy of
    a locked service ID could be moved to another subject (and then deleted)."""
    machine = _replay(world)
    sid = machine.create_service_id(name="build", with_key=False)
    iam_id = machine.model.service_ids[sid].iam_id
    policy = machine.make_policy("v2", "iam_id", iam_id, {"serviceName": "kms"}, [EDITOR])
    assert policy is not None
    machine.lock_service_id(sid, lock=True)
    machine.put_policy(policy, False, "iam_id", MEMBER, {"serviceName": "kms"}, [EDITOR])  # 409
    _check(machine)
