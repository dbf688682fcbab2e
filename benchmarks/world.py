"""An IBM-shaped world written straight into a database: accounts, service IDs, access groups with
members, and v1/v2 access policies, for the server to start on (issue 7, "a million policies").

The shape follows `bench_decide.make_world` (policies 40 % on access groups, the rest on
identities; one role (70 %) or two; scoped to an instance, a resource, a service, a resource group
and service, a resource group, or a service and type), on the real catalog's services and roles,
and one account much larger than the others so that a per-account compile shows. The identities
are service IDs (no API keys); the groups' members are service IDs of their account.

How: `bootstrap.build` makes the schema, the root key and the first account with its owner and
API key, exactly as a first start does; `probes - 1` more accounts are made through the identity
service (an owner and an API key each, so that a caller can ask `/v2/authz` about each: a token
acts in its own account only). Everything else is written with bulk inserts through SQLAlchemy
Core on the real tables, in batches, with the rows in the stored format the repositories read
(`StoredPolicy`: the document as a client would have sent it, and the filter columns taken from
it). Every account's access revision is set last, so no cached compile can be stale.

Run alone: `python -m benchmarks.world DATA_DIR [--database-url URL] [--policies N ...]`.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.policy import Catalog, load_catalog
from strongroom.store.sql import tables as t
from strongroom.store.sql.engine import create_database

Progress = Callable[[str], None]
BATCH = 10_000
NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
SYSTEM = {
    n: f"crn:v1:bluemix:public:iam::::role:{n}"
    for n in ("Viewer", "Operator", "Editor", "Administrator")
}
# Weighted as in bench_decide: IAM-enabled services mostly, account management services less.
SERVICES = {
    "kms": 25,
    "cloud-object-storage": 25,
    "hs-crypto": 10,
    "containers-kubernetes": 10,
    "iam-identity": 10,
    "iam-groups": 8,
    "iam-access-management": 5,
}
SCOPES = {  # scope -> weight (bench_decide's mix, folded onto what the catalog has)
    "instance": 30,
    "resource": 17,
    "service": 15,
    "rg+service": 12,
    "rg": 10,
    "instance+type": 8,
    "service+type": 6,
    "platform services": 2,
}


@dataclass(frozen=True)
class Shape:
    accounts: int = 1_000
    identities: int = 100_000  # service IDs, over all accounts
    policies: int = 1_000_000
    large_policies: int = 50_000  # of them, in the first account
    probes: int = 50  # accounts with an owner and an API key (the first is the large one)
    seed: int = 7


SMALL = Shape(accounts=50, identities=1_000, policies=10_000, large_policies=1_000, probes=50)


@dataclass
class Probe:
    """An account a caller can ask about: its owner's API key and questions with their answer."""

    account_id: str
    apikey: str
    policies: int
    questions: list[dict[str, Any]] = field(default_factory=list)  # permitted ones


@dataclass
class World:
    shape: Shape
    probes: list[Probe]
    rows: dict[str, int]
    seconds: dict[str, float]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))


@dataclass
class _Account:
    id: str
    policies: int
    service_ids: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    instances: dict[str, list[str]] = field(default_factory=dict)
    resource_groups: list[str] = field(default_factory=list)


def _settings(data_dir: Path, database_url: str | None, apikey: str) -> Settings:
    return Settings(
        data_dir=data_dir, database_url=database_url, bootstrap_apikey=SecretStr(apikey)
    )


def generate(
    data_dir: Path, database_url: str | None, shape: Shape, progress: Progress = print
) -> World:
    """Write the world into a new database (`database_url`, else the data dir's SQLite file)."""
    rnd = random.Random(shape.seed)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    keys = [f"world-{i}-{secrets.token_urlsafe(24)}" for i in range(shape.probes)]
    runtime = bootstrap.build(_settings(data_dir, database_url, keys[0]))
    try:
        if runtime.first_start is None:
            raise RuntimeError("the database is not empty: the world needs a new one")
        ids = [runtime.first_start.account.id]
        for i, key in enumerate(keys[1:], start=1):
            made = runtime.container.identity.create_account(
                f"probe-{i}", f"owner{i}@example.com", key
            )
            assert made is not None
            ids.append(made.account.id)
        url = runtime.settings.resolved_database_url()
    finally:
        runtime.close()
    seconds["probe accounts (identity service)"] = time.monotonic() - started

    small = shape.policies - shape.large_policies
    per = small / max(1, shape.accounts - 1)
    ids += [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(shape.accounts - len(ids))]
    accounts = [_Account(ids[0], shape.large_policies)]
    accounts += [_Account(i, int(per * (n + 1)) - int(per * n)) for n, i in enumerate(ids[1:])]
    probes = [Probe(a.id, k, a.policies) for a, k in zip(accounts, keys, strict=False)]
    writer = _Writer(create_database(url, synchronous="OFF"), progress)
    catalog = load_catalog()
    began = time.monotonic()
    try:
        writer.add(
            t.accounts,
            [
                {"id": a.id, "name": f"world-{n}", "owner_iam_id": f"IBMid-W{n:09d}",
                 "state": "ACTIVE", "created_at": NOW}
                for n, a in enumerate(accounts[shape.probes :], start=shape.probes)
            ],
        )  # fmt: skip
        for n, account in enumerate(accounts):
            share = account.policies / shape.policies
            _fill(rnd, account, max(10, int(shape.identities * share)))
            writer.add(t.service_ids, _service_id_rows(account))
            writer.add(t.access_groups, _group_rows(account))
            writer.add(t.access_group_members, _member_rows(rnd, account))
            probe = probes[n] if n < len(probes) else None
            writer.add(t.policies, _policies(rnd, catalog, account, probe))
            if n % 100 == 0:
                progress(f"world: account {n + 1:,} of {len(accounts):,}")
        writer.flush()
        writer.set_revisions([a.id for a in accounts])
    finally:
        writer.database.dispose()
    seconds["bulk rows"] = time.monotonic() - began
    seconds["total"] = time.monotonic() - started
    return World(shape, probes, writer.rows, seconds)


def _fill(rnd: random.Random, account: _Account, identities: int) -> None:
    def guid() -> str:
        return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

    account.service_ids = [f"ServiceId-{guid()}" for _ in range(identities)]
    account.groups = [f"AccessGroupId-{guid()}" for _ in range(max(5, account.policies // 50))]
    account.resource_groups = [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(20)]
    account.instances = {name: [guid() for _ in range(20)] for name in SERVICES}


def _service_id_rows(account: _Account) -> Iterator[dict[str, Any]]:
    for n, sid in enumerate(account.service_ids):
        name = f"world-sid-{n}"
        yield {
            "id": sid, "iam_id": f"iam-{sid}", "account_id": account.id, "name": name,
            "description": "", "name_folded": name, "description_folded": "",
            "unique_instance_crns": [], "locked": False, "created_at": NOW, "modified_at": NOW,
            "created_by": "world", "entity_tag": "1-world", "history": [],
        }  # fmt: skip


def _group_rows(account: _Account) -> Iterator[dict[str, Any]]:
    for n, group in enumerate(account.groups):
        yield {
            "id": group, "account_id": account.id, "name": f"world-group-{n}",
            "name_folded": f"world-group-{n}", "description": "", "created_at": NOW,
            "created_by_id": "world", "last_modified_at": NOW, "last_modified_by_id": "world",
            "entity_tag": "1-world",
        }  # fmt: skip


def _member_rows(rnd: random.Random, account: _Account) -> Iterator[dict[str, Any]]:
    """Each service ID in no group (half), one (a third) or two."""
    for sid in account.service_ids:
        k = rnd.choice((0, 0, 0, 1, 1, 2))
        for group in rnd.sample(account.groups, min(k, len(account.groups))):
            yield {
                "group_id": group, "iam_id": f"iam-{sid}", "account_id": account.id,
                "type": "service", "created_at": NOW, "created_by_id": "world",
            }  # fmt: skip


def _policies(
    rnd: random.Random, catalog: Catalog, account: _Account, probe: Probe | None
) -> Iterator[dict[str, Any]]:
    services, weights = list(SERVICES), list(SERVICES.values())
    scopes, scope_weights = list(SCOPES), list(SCOPES.values())
    for _ in range(account.policies):
        service = rnd.choices(services, weights)[0]
        scope = rnd.choices(scopes, scope_weights)[0]
        spec = catalog.services[service]
        on_group = rnd.random() < 0.40
        subject = (
            ("access_group_id", rnd.choice(account.groups))
            if on_group
            else ("iam_id", f"iam-{rnd.choice(account.service_ids)}")
        )
        attrs: list[tuple[str, str]] = [("accountId", account.id)]
        pool = list(spec.roles)
        if scope in ("instance", "resource", "instance+type") and spec.kind == "service":
            attrs += [("serviceName", service)]
            attrs += [("serviceInstance", rnd.choice(account.instances[service]))]
            if scope != "instance":
                rtype = rnd.choice(spec.resource_types)
                attrs.append(("resourceType", rtype))
                if scope == "resource":
                    attrs.append(("resource", f"{rtype}-{rnd.randrange(50)}"))
        elif scope == "rg+service":
            attrs += [("serviceName", service)]
            attrs += [("resourceGroupId", rnd.choice(account.resource_groups))]
        elif scope == "rg":
            attrs.append(("resourceGroupId", rnd.choice(account.resource_groups)))
            pool = [SYSTEM["Viewer"], SYSTEM["Editor"]]
        elif scope == "platform services":
            attrs.append(("serviceType", "platform_service"))
            pool = list(SYSTEM.values())
        elif scope == "service+type" and spec.resource_types:
            attrs += [("serviceName", service), ("resourceType", rnd.choice(spec.resource_types))]
        else:
            scope = "service"
            attrs.append(("serviceName", service))
        roles = [rnd.choice(pool)] if rnd.random() < 0.7 else rnd.sample(pool, 2)
        version = "v2" if rnd.random() < 0.7 else "v1"
        document = (_v2 if version == "v2" else _v1)(subject, attrs, roles)
        policy_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        if probe is not None and scope == "service" and not on_group and len(probe.questions) < 8:
            actions = sorted(catalog.actions_of(service, roles[0]))
            if actions:
                probe.questions.append(
                    {
                        "subject": {"attributes": {"id": subject[1]}},
                        "action": rnd.choice(actions),
                        "resource": {"attributes": {"accountId": account.id,
                                                    "serviceName": service}},
                    }
                )  # fmt: skip
        yield {
            "id": policy_id, "account_id": account.id, "type": "access", "version": version,
            "document": document,
            "subject_iam_id": subject[1] if subject[0] == "iam_id" else None,
            "subject_group_id": subject[1] if subject[0] == "access_group_id" else None,
            "subject_service": None,
            "service_name": dict(attrs).get("serviceName"),
            "service_type": dict(attrs).get("serviceType"),
            "state": "active", "created_at": NOW, "created_by_id": "world",
            "last_modified_at": NOW, "last_modified_by_id": "world",
            "entity_tag": f"1-{policy_id.replace('-', '')}",
        }  # fmt: skip


def _v2(subject: tuple[str, str], attrs: list[tuple[str, str]], roles: list[str]) -> dict[str, Any]:
    """As `POST /v2/policies` takes it (spec §6.2)."""

    def eq(key: str, value: str) -> dict[str, str]:
        return {"key": key, "operator": "stringEquals", "value": value}

    return {
        "type": "access",
        "subject": {"attributes": [eq(*subject)]},
        "resource": {"attributes": [eq(k, v) for k, v in attrs]},
        "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
    }


def _v1(subject: tuple[str, str], attrs: list[tuple[str, str]], roles: list[str]) -> dict[str, Any]:
    """As `POST /v1/policies` takes it (spec §6.1)."""
    return {
        "type": "access",
        "subjects": [{"attributes": [{"name": subject[0], "value": subject[1]}]}],
        "roles": [{"role_id": r} for r in roles],
        "resources": [{"attributes": [{"name": k, "value": v} for k, v in attrs]}],
    }


class _Writer:
    """Rows buffered per table and inserted `BATCH` at a time, one transaction per batch."""

    def __init__(self, database: Any, progress: Progress) -> None:
        self.database = database
        self.progress = progress
        self.buffers: dict[sa.Table, list[dict[str, Any]]] = {}
        self.rows: dict[str, int] = {}

    def add(self, table: sa.Table, rows: Any) -> None:
        buffer = self.buffers.setdefault(table, [])
        for row in rows:
            buffer.append(row)
            if len(buffer) >= BATCH:
                self._write(table, buffer)
                buffer.clear()

    def flush(self) -> None:
        # Parents before children: accounts, then groups before their members.
        for table in sorted(self.buffers, key=lambda tb: tb is t.access_group_members):
            if self.buffers[table]:
                self._write(table, self.buffers[table])
                self.buffers[table].clear()

    def _write(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        if table is t.access_group_members and self.buffers.get(t.access_groups):
            groups = self.buffers[t.access_groups]
            self._write(t.access_groups, groups)  # members name groups still buffered
            groups.clear()
        if table is not t.accounts and self.buffers.get(t.accounts):
            accounts = self.buffers[t.accounts]
            self._write(t.accounts, accounts)
            accounts.clear()
        with self.database.engine.begin() as conn:
            conn.execute(table.insert(), rows)
        self.rows[table.name] = self.rows.get(table.name, 0) + len(rows)

    def set_revisions(self, account_ids: list[str]) -> None:
        """Revision 1 for new accounts; one more for those the identity service made."""
        r = t.account_revisions
        with self.database.engine.begin() as conn:
            have = set(conn.execute(sa.select(r.c.account_id)).scalars())
            conn.execute(r.update().values(revision=r.c.revision + 1))
            new = [{"account_id": a, "revision": 1} for a in account_ids if a not in have]
            for start in range(0, len(new), BATCH):
                conn.execute(r.insert(), new[start : start + BATCH])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.world", description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--database-url")
    defaults = Shape()
    for name in ("accounts", "identities", "policies", "large_policies", "probes"):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=int, default=getattr(defaults, name))
    args = parser.parse_args(argv)
    shape = Shape(args.accounts, args.identities, args.policies, args.large_policies, args.probes)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    world = generate(args.data_dir, args.database_url, shape)
    world.save(args.data_dir / "world.json")
    print(json.dumps({"rows": world.rows, "seconds": world.seconds}, indent=1))


if __name__ == "__main__":
    main()
