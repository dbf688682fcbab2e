"""reliability.md A3 (d): random edits, deletions, reorderings and whole-chain rewrites (every
hash recomputed, the head too) of stored events, made directly in the database, are all found by
the chain check; a rewrite is found by the head's signature, whose key the database lacks.
1,000 trials by default (STRONGROOM_AUDIT_TAMPER_TRIALS to change), each rolled back before the
next."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from strongroom import bootstrap
from strongroom.audit import chain, events
from strongroom.bootstrap import Runtime
from strongroom.config import Settings
from strongroom.store.sql import tables as t
from tests.conftest import database_url_for

TRIALS = int(os.environ.get("STRONGROOM_AUDIT_TAMPER_TRIALS", "1000"))
EVENTS = 40
ACCOUNT = "a" * 32


class Rollback(Exception):
    pass


@pytest.fixture(
    scope="module", params=["sqlite-memory", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    with ExitStack() as stack:
        tmp = tmp_path_factory.mktemp(f"tamper-{request.param}")
        url = database_url_for(request.param, stack, str(tmp))
        built = bootstrap.build(Settings(data_dir=Path(tmp), database_url=url))
        stack.callback(built.close)
        for n in range(EVENTS):
            at = datetime(2026, 1, 1, tzinfo=UTC)
            event = events.build(
                action=random.choice(["iam-identity.serviceid.create", "kms.secrets.wrap"]),
                status=random.choice([200, 201, 403, 409]),
                now=at,
                initiator_id=f"IBMid-{n}",
                initiator_kind=None,
                credential="token",
                address="10.0.0.1",
                target_id=events.crn(ACCOUNT, "iam-identity"),
                correlation_id=f"trace-{n}",
                request_id=f"trace-{n}",
                method="POST",
                path="/v1/serviceids/",
            )
            built.container.audit.record(ACCOUNT, at, event)
        yield built


def _edit_event(conn: sa.Connection, rng: random.Random) -> str:
    seq = rng.randint(1, EVENTS)
    e = t.audit_events
    row = conn.execute(sa.select(e.c.event).where(e.c.account_id == ACCOUNT, e.c.seq == seq)).one()
    event = json.loads(row.event)
    field = rng.choice(["initiator", "reason", "severity", "eventTime", "target", "correlationId"])
    if field == "initiator":
        event["initiator"]["id"] = "IBMid-someone-else"
    elif field == "reason":
        event["reason"]["reasonCode"] = 200 if event["reason"]["reasonCode"] != 200 else 201
    elif field == "target":
        event["target"]["id"] += "x"
    else:
        event[field] = str(event[field]) + "!"
    conn.execute(
        e.update().where(e.c.account_id == ACCOUNT, e.c.seq == seq).values(event=json.dumps(event))
    )
    return f"edit {field} of {seq}"


def _edit_column(conn: sa.Connection, rng: random.Random) -> str:
    seq = rng.randint(1, EVENTS)
    column = rng.choice(["action", "outcome", "hash", "prev_hash"])
    value = {"action": "iam-identity.serviceid.read", "outcome": "pending"}.get(column, "f" * 64)
    e = t.audit_events
    conn.execute(
        e.update().where(e.c.account_id == ACCOUNT, e.c.seq == seq).values({column: value})
    )
    return f"edit column {column} of {seq}"


def _delete(conn: sa.Connection, rng: random.Random) -> str:
    seq = rng.choice([rng.randint(1, EVENTS), 1, EVENTS])
    e = t.audit_events
    conn.execute(e.delete().where(e.c.account_id == ACCOUNT, e.c.seq == seq))
    return f"delete {seq}"


def _reorder(conn: sa.Connection, rng: random.Random) -> str:
    a, b = rng.sample(range(1, EVENTS + 1), 2)
    e = t.audit_events
    where = e.c.account_id == ACCOUNT
    # Swap the two rows' places in the chain: every column moves but the sequence number.
    conn.execute(e.update().where(where, e.c.seq == a).values(seq=-1))
    conn.execute(e.update().where(where, e.c.seq == b).values(seq=a))
    conn.execute(e.update().where(where, e.c.seq == -1).values(seq=b))
    return f"swap {a} and {b}"


def _rewrite_all(conn: sa.Connection, rng: random.Random) -> str:
    """What an attacker with the whole database can do: change, drop or reorder events, then
    recompute every link and the head. Only the head's signature is beyond reach: kept, or made
    with a key the attacker guesses."""
    e, h = t.audit_events, t.audit_heads
    rows = conn.execute(sa.select(e).where(e.c.account_id == ACCOUNT).order_by(e.c.seq)).all()
    kept = [json.loads(r.event) for r in rows]
    how = rng.choice(["edit", "drop", "truncate", "swap"])
    if how == "edit":
        kept[rng.randrange(len(kept))]["initiator"]["id"] = "IBMid-someone-else"
    elif how == "drop":
        kept.pop(rng.randrange(len(kept)))
    elif how == "truncate":
        kept = kept[: rng.randint(1, len(kept) - 1)]
    else:
        a, b = rng.sample(range(len(kept)), 2)
        kept[a], kept[b] = kept[b], kept[a]
    conn.execute(e.delete().where(e.c.account_id == ACCOUNT))
    prev = chain.GENESIS
    for seq, event in enumerate(kept, start=1):
        digest = chain.link(prev, ACCOUNT, seq, event)
        conn.execute(
            e.insert().values(
                account_id=ACCOUNT, seq=seq, event_time=datetime(2026, 1, 1, tzinfo=UTC),
                action=event["action"], outcome=event["outcome"],
                event=chain.canonical(event), prev_hash=prev, hash=digest,
            )
        )  # fmt: skip
        prev = digest
    mac = rng.choice(["keep", "guess", "empty"])
    values: dict[str, object] = {"seq": len(kept), "hash": prev}
    if mac == "guess":
        values["mac"] = chain.HeadSigner(os.urandom(32)).sign(ACCOUNT, len(kept), prev)
    elif mac == "empty":
        values["mac"] = ""
    conn.execute(h.update().where(h.c.account_id == ACCOUNT).values(values))
    return f"rewrite all ({how}, head mac {mac})"


TAMPERS: list[Callable[[sa.Connection, random.Random], str]] = [
    _edit_event,
    _edit_column,
    _delete,
    _reorder,
    _rewrite_all,
]


def test_the_untouched_chain_verifies(runtime: Runtime) -> None:
    verdict = runtime.container.audit.verify_chain(ACCOUNT)
    assert verdict.ok and verdict.events == EVENTS


def test_a_rewrite_of_the_whole_chain_is_detected(runtime: Runtime) -> None:
    """Every link recomputed: the links all hold, and the head's signature gives it away."""
    rng = random.Random(13)
    for _ in range(40):
        try:
            with runtime.uow(write=True) as unit:
                what = _rewrite_all(unit._conn, rng)
                verdict = runtime.container.audit.verify_chain(ACCOUNT)
                assert not verdict.ok, what
                assert "signature" in verdict.problem, (what, verdict.problem)
                raise Rollback
        except Rollback:
            pass
    assert runtime.container.audit.verify_chain(ACCOUNT).ok


def test_unsigned_heads_are_signed_once_at_start(runtime: Runtime) -> None:
    """A head from before migration 0013 (no signature) is signed by the next start only."""
    signer = runtime.container.audit.writer.signer
    try:
        with runtime.uow(write=True) as unit:
            h = t.audit_heads
            unit._conn.execute(h.update().where(h.c.account_id == ACCOUNT).values(mac=""))
            assert not runtime.container.audit.verify_chain(ACCOUNT).ok
            assert unit.audit_log.sign_unsigned_heads(signer) == 1
            assert runtime.container.audit.verify_chain(ACCOUNT).ok
            raise Rollback
    except Rollback:
        pass
    with runtime.uow() as unit:
        assert unit.meta.get("audit_heads_signed") == "1"  # bootstrap will not do it again


def test_every_random_tamper_is_detected(runtime: Runtime) -> None:
    rng = random.Random(20261121)
    undetected: list[str] = []
    for _ in range(TRIALS):
        try:
            with runtime.uow(write=True) as unit:
                what = rng.choice(TAMPERS)(unit._conn, rng)
                # Joins the open unit of work: it sees the tampered rows.
                if runtime.container.audit.verify_chain(ACCOUNT).ok:
                    undetected.append(what)
                raise Rollback
        except Rollback:
            pass
    assert undetected == [], f"tamper_undetected={len(undetected)} of {TRIALS}: {undetected[:5]}"
    print(f"tamper trials: {TRIALS}, detected {TRIALS - len(undetected)}")
    assert runtime.container.audit.verify_chain(ACCOUNT).ok  # every trial was rolled back
