"""reliability.md C7, quotas enforced atomically, on SQLite (a file, as served) and PostgreSQL:
fill an account to its limit - 10, then race 100 concurrent creators over real HTTP. The final
count equals the limit exactly, the other 90 get the 422 quota error (never a 500 or "database
is locked"), and a refused create leaves no row behind. Limits are scaled down here through the
`limits` setting; STRONGROOM_HEAVY=1 runs the same race at IBM's values (the nightly version),
filling through the store where the API would take minutes."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime

import httpx
import pytest

from strongroom import ids
from strongroom.access.group_models import AccessGroup
from strongroom.limits import load_limits
from strongroom.testing.server import LiveServer
from tests.api.limits_helpers import Tenant, is_quota_refusal, new_tenant, policy
from tests.conftest import SERVER_BACKENDS, start_server

CREATORS = 100
ROOM = 10
HEAVY = os.environ.get("STRONGROOM_HEAVY") == "1"
SCALED = {
    "policies_per_account": 40,
    "access_groups_per_account": 20,
    "rules_per_access_group": 12,
    "service_ids_per_account": 20,
    "profiles_per_account": 20,
    "custom_roles_per_account": 15,
    "api_keys_per_identity": 20,
}
LIMITS = asdict(load_limits()) if HEAVY else SCALED
# kind (limits_helpers.Tenant), its limit, the path its refusals come from
CASES = [
    ("policies", "policies_per_account", "/v2/policies"),
    ("groups", "access_groups_per_account", "/v2/groups"),
    ("rules", "rules_per_access_group", "/v2/groups"),
    ("service_ids", "service_ids_per_account", "/v1/serviceids"),
    ("profiles", "profiles_per_account", "/v1/profiles"),
    ("roles", "custom_roles_per_account", "/v2/roles"),
    ("api_keys", "api_keys_per_identity", "/v1/apikeys"),
]


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def racing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with ExitStack() as stack:
        yield start_server(
            request.param,
            str(tmp_path_factory.mktemp("race")),
            stack,
            settings_overrides={} if HEAVY else {"limits": SCALED},
        )


@pytest.mark.parametrize(("kind", "limit_name", "path"), CASES, ids=[c[0] for c in CASES])
def test_racing_creators_never_pass_the_limit(
    racing: LiveServer, kind: str, limit_name: str, path: str
) -> None:
    limit = LIMITS[limit_name]
    room = min(ROOM, limit)  # IBM's 5 rules per group: race from none
    limits = httpx.Limits(max_connections=CREATORS, max_keepalive_connections=CREATORS)
    with httpx.Client(base_url=racing.url, timeout=120, limits=limits) as http:
        tenant = new_tenant(racing, http)
        parent = tenant.create("groups").json()["id"] if kind == "rules" else ""
        fill(tenant, kind, parent, limit - room)
        assert tenant.count(kind, parent) == limit - room
        before_rows = _rows(tenant, kind)
        start = threading.Barrier(CREATORS)

        def create(_: int) -> httpx.Response:
            start.wait()
            return tenant.create(kind, parent)

        with ThreadPoolExecutor(CREATORS) as pool:
            answers = list(pool.map(create, range(CREATORS)))

    made = [a for a in answers if a.is_success]
    refused = [a for a in answers if not a.is_success]
    strays = [a.text for a in refused if not is_quota_refusal(a, path, limit_name)]
    assert strays == [], strays[:3]  # no 500, no "database is locked", no other refusal
    assert len(made) == room
    assert tenant.count(kind, parent) == limit  # 0 overshoot
    # No partial rows: what was written is exactly what was acknowledged.
    assert _rows(tenant, kind) == before_rows + room


def fill(tenant: Tenant, kind: str, parent: str, target: int) -> None:
    """Bring `kind` to `target` through the API, or, for thousands, through the store in one
    unit of work (policies through Policy Management's own `grant_in`, so they are valid)."""
    missing = target - tenant.count(kind, parent)
    container, by = tenant.server.container, tenant.owner
    if missing > 100 and kind in ("policies", "groups", "service_ids"):
        with tenant.server.runtime.uow(write=True) as uow:
            for n in range(missing):
                tag = uuid.uuid4().hex[:12]
                if kind == "policies":
                    container.policies.grant_in(
                        uow, tenant.account, by, policy(f"IBMid-{tag}", tenant.account)
                    )
                elif kind == "groups":
                    now = datetime.now(UTC)
                    uow.access_groups.add(
                        AccessGroup(f"AccessGroupId-{tag}", tenant.account, f"fill {n}", "",
                                    now, by, now, by, ids.new_entity_tag(1))
                    )  # fmt: skip
                else:
                    container.identity.add_service_id_in(
                        uow, account_id=tenant.account, name=f"fill {n}", by=by,
                        by_account=tenant.account,
                    )  # fmt: skip
            uow.revisions.bump(tenant.account)
        container.authorizer.invalidate(tenant.account)
        return
    for _ in range(missing):
        made = tenant.create(kind, parent)
        assert made.is_success, made.text


def _rows(tenant: Tenant, kind: str) -> int:
    """Every row the create could have written, in any state (a deleted policy included)."""
    if kind == "policies":
        return tenant.count("all_policy_rows")
    with tenant.server.runtime.uow() as uow:
        if kind == "rules":
            return len(uow.group_rules.in_account(tenant.account))
        if kind == "api_keys":
            return uow.api_keys.count_owned_by(tenant.owner)
    return tenant.count(kind)
