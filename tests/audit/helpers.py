"""What the audit tests share: a Key Protect instance and root key made over HTTP, the stored
events read straight from the database, and the triggers that take the audit table down."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa

from strongroom.audit import chain
from strongroom.store.sql import tables as t
from strongroom.testing.server import LiveServer
from tests.api.conftest import new_resource_group

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
HPCS_PLAN = "0b5ed8fe-0b7e-4e2a-9d6f-3c1b2a4e5f60"  # hs-crypto `standard` (resources/plans.yaml)
KEY_TYPE = "application/vnd.ibm.kms.key+json"


def kms_instance(http: httpx.Client, headers: dict[str, str], plan: str = KMS_PLAN) -> str:
    body = {
        "name": f"kp-{uuid.uuid4().hex[:8]}",
        "target": "us-south",
        "resource_group": new_resource_group(http, headers),
        "resource_plan_id": plan,
    }
    made = http.post("/v2/resource_instances", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return str(made.json()["guid"])


def new_key(
    http: httpx.Client, headers: dict[str, str], instance: str, **fields: Any
) -> dict[str, Any]:
    envelope = {
        "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
        "resources": [{"type": KEY_TYPE, "name": f"k-{uuid.uuid4().hex[:6]}", **fields}],
    }
    made = http.post(
        "/api/v2/keys",
        json=envelope,
        headers={**headers, "Bluemix-Instance": instance, "Prefer": "return=representation"},
    )
    assert made.status_code == 201, made.text
    return dict(made.json()["resources"][0])


def wrap(
    http: httpx.Client, headers: dict[str, str], instance: str, key: str, dek: bytes
) -> httpx.Response:
    return http.post(
        f"/api/v2/keys/{key}/actions/wrap",
        json={"plaintext": base64.b64encode(dek).decode()},
        headers={**headers, "Bluemix-Instance": instance},
    )


def stored_text(server: LiveServer) -> list[str]:
    """Every stored event as its raw row text (event JSON and the indexed columns)."""
    with server.runtime.database.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_events)).all()
    return [" ".join(str(v) for v in row) for row in rows]


def event_count(server: LiveServer) -> int:
    with server.runtime.database.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(t.audit_events)).scalar_one()
        )


def take_audit_down(server: LiveServer) -> None:
    """Every insert into the audit table fails, as a full or read-only sink would."""
    with server.runtime.database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "CREATE FUNCTION audit_down() RETURNS trigger AS "
                    "$$ BEGIN RAISE EXCEPTION 'audit sink down'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                    "FOR EACH ROW EXECUTE FUNCTION audit_down()"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit sink down'); END"
                )
            )


def bring_audit_back(server: LiveServer) -> None:
    with server.runtime.database.engine.begin() as conn:
        conn.execute(
            sa.text(
                "DROP TRIGGER audit_down"
                + (" ON audit_events" if conn.dialect.name == "postgresql" else "")
            )
        )
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP FUNCTION audit_down()"))


def rewrite_chain(server: LiveServer, account: str) -> Callable[[], None]:
    """Rewrite an account's whole chain as an attacker with the database could: one event
    edited, every link and the head recomputed (the head's signature cannot be). Returns what
    puts the stored rows back."""
    e, h = t.audit_events, t.audit_heads
    with server.runtime.database.engine.begin() as conn:
        rows = conn.execute(sa.select(e).where(e.c.account_id == account).order_by(e.c.seq)).all()
        head = conn.execute(sa.select(h).where(h.c.account_id == account)).one()
        prev = chain.GENESIS
        for n, row in enumerate(rows):
            event = json.loads(row.event)
            if n == 0:
                event["initiator"]["id"] = "IBMid-rewritten"
            digest = chain.link(prev, account, row.seq, event)
            conn.execute(
                e.update()
                .where(e.c.account_id == account, e.c.seq == row.seq)
                .values(event=chain.canonical(event), prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(h.update().where(h.c.account_id == account).values(hash=prev))

    def restore() -> None:
        with server.runtime.database.engine.begin() as conn:
            for row in rows:
                conn.execute(
                    e.update()
                    .where(e.c.account_id == account, e.c.seq == row.seq)
                    .values(event=row.event, prev_hash=row.prev_hash, hash=row.hash)
                )
            conn.execute(
                h.update()
                .where(h.c.account_id == account)
                .values(seq=head.seq, hash=head.hash, mac=head.mac)
            )

    return restore
