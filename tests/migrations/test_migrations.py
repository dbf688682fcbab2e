"""The Alembic migrations build exactly the schema `tables.metadata` describes, on both dialects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from strongroom.identity.models import Account
from strongroom.store.sql import migrate
from strongroom.store.sql.engine import Database, create_database
from strongroom.store.sql.tables import metadata
from strongroom.store.sql.uow import SqlUnitOfWorkFactory
from strongroom.testing.postgres import scratch_database
from tests.conftest import PG_SKIP, PG_URL

BACKENDS = ["sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)]
APP_TABLES = set(metadata.tables)
CREATED = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def empty_database_url(backend: str, stack: ExitStack, tmp_path: Path) -> str:
    if backend == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        return stack.enter_context(scratch_database(PG_URL))
    return f"sqlite:///{tmp_path / 'migrations.db'}"


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with ExitStack() as stack:
        db = create_database(empty_database_url(str(request.param), stack, tmp_path))
        stack.callback(db.dispose)
        yield db


def tables(db: Database) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return migrate.current_revision(conn)


def schema_diff(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def downgrade(db: Database, target: str = "base") -> None:
    config = migrate.alembic_config()
    with db.engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, target)


def store_works(db: Database) -> None:
    uow = SqlUnitOfWorkFactory(db)
    account = Account("0" * 32, "after migration", "IBMid-X000000001", CREATED)
    with uow(write=True) as w:
        w.accounts.add(account)
    with uow() as r:
        assert r.accounts.get(account.id) == account


def test_migrations_form_one_line_of_history() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    chain = [s.revision for s in scripts.walk_revisions()]  # head first
    assert chain == [f"{n:04d}" for n in range(len(chain), 0, -1)]
    assert migrate.head_revision() == chain[0]


def test_upgrade_on_an_empty_database(database: Database) -> None:
    assert tables(database) == set()
    assert revision(database) is None
    migrate.upgrade(database)
    assert tables(database) == APP_TABLES | {"alembic_version"}
    assert revision(database) == migrate.head_revision()
    store_works(database)


def test_upgrade_is_idempotent(database: Database) -> None:
    migrate.upgrade(database)
    store_works(database)
    migrate.upgrade(database)
    assert revision(database) == migrate.head_revision()
    assert tables(database) == APP_TABLES | {"alembic_version"}
    with SqlUnitOfWorkFactory(database)() as uow:
        assert uow.accounts.count() == 1  # the second run touched nothing
    assert schema_diff(database) == []


def test_migrated_schema_matches_the_metadata(database: Database) -> None:
    migrate.upgrade(database)
    assert schema_diff(database) == []


def test_schema_diff_notices_a_difference(database: Database) -> None:
    """The comparison itself can fail: drop an index and it must say so."""
    migrate.upgrade(database)
    with database.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_api_keys_iam_id"))
    diff = schema_diff(database)
    assert [d[0] for d in diff] == ["add_index"]
    assert diff[0][1].name == "ix_api_keys_iam_id"


def test_downgrade_to_base_then_upgrade_again(database: Database) -> None:
    migrate.upgrade(database)
    store_works(database)
    downgrade(database)
    assert revision(database) is None
    assert tables(database) & APP_TABLES == set()
    migrate.upgrade(database)
    assert revision(database) == migrate.head_revision()
    assert tables(database) == APP_TABLES | {"alembic_version"}
    assert schema_diff(database) == []
    with SqlUnitOfWorkFactory(database)() as uow:
        assert uow.accounts.count() == 0  # downgrade really dropped the data
    store_works(database)


@pytest.mark.postgres
def test_nodes_starting_together_migrate_once(tmp_path: Path) -> None:
    """PostgreSQL: the advisory lock lets several nodes run upgrade() on one empty database."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    with scratch_database(PG_URL) as url:
        nodes = [create_database(url) for _ in range(3)]
        barrier = threading.Barrier(len(nodes))
        errors: list[BaseException] = []

        def start(db: Database) -> None:
            try:
                barrier.wait(timeout=10)
                migrate.upgrade(db)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(db,)) for db in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        try:
            assert errors == []
            assert revision(nodes[0]) == migrate.head_revision()
            assert schema_diff(nodes[0]) == []
        finally:
            for db in nodes:
                db.dispose()


def test_0006_gives_every_existing_account_its_default_resource_group(database: Database) -> None:
    """Spec §7: every account has a `Default` group; accounts made before 0006 get theirs."""
    config = migrate.alembic_config()
    with database.engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    uow = SqlUnitOfWorkFactory(database)
    older = [Account(f"{n:032x}", f"before 0006 {n}", "IBMid-X000000001", CREATED) for n in (1, 2)]
    with database.engine.begin() as conn:
        for account in older:
            conn.execute(
                sa.text(
                    "INSERT INTO accounts (id, name, owner_iam_id, state, created_at)"
                    " VALUES (:id, :name, :owner, 'ACTIVE', :created)"
                ),
                {"id": account.id, "name": account.name, "owner": account.owner_iam_id,
                 "created": CREATED.replace(tzinfo=None)},
            )  # fmt: skip
    migrate.upgrade(database)
    with uow() as r:
        for account in older:
            (group,) = r.resource_groups.in_account(account.id)
            assert (group.name, group.state, group.default) == ("Default", "ACTIVE", True)
            assert group.created_at == CREATED and len(group.id) == 32
            assert group.quota_id == "ab308779b42f1ac6af1901a3698c4ea2"


def test_0013_signs_the_heads_of_existing_chains_once(database: Database, tmp_path: Path) -> None:
    """reliability.md A3 (d): chains stored before heads were signed verify after the upgrade
    (the first start signs their heads as they stand), and only that start does it."""
    from strongroom import bootstrap
    from strongroom.audit import chain
    from strongroom.config import Settings

    config = migrate.alembic_config()
    with database.engine.connect() as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "0012")
    account, prev = "b" * 32, chain.GENESIS
    with database.engine.begin() as conn:
        for seq in (1, 2):
            event = {"action": "iam-identity.serviceid.create", "outcome": "success", "n": seq}
            digest = chain.link(prev, account, seq, event)
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (account_id, seq, event_time, action, outcome,"
                    " event, prev_hash, hash) VALUES (:a, :s, :t, :action, 'success', :e, :p, :h)"
                ),
                {"a": account, "s": seq, "t": CREATED.replace(tzinfo=None),
                 "action": event["action"], "e": chain.canonical(event), "p": prev, "h": digest},
            )  # fmt: skip
            prev = digest
        conn.execute(
            sa.text("INSERT INTO audit_heads (account_id, seq, hash) VALUES (:a, 2, :h)"),
            {"a": account, "h": prev},
        )
    url = database.engine.url.render_as_string(hide_password=False)
    runtime = bootstrap.build(Settings(data_dir=tmp_path, database_url=url))
    try:
        assert runtime.container.audit.verify_chain(account).ok
        with database.engine.begin() as conn:  # unsigned again: a later start does not sign it
            conn.execute(sa.text("UPDATE audit_heads SET mac = ''"))
    finally:
        runtime.close()
    runtime = bootstrap.build(Settings(data_dir=tmp_path, database_url=url))
    try:
        verdict = runtime.container.audit.verify_chain(account)
        assert not verdict.ok and "signature" in verdict.problem
    finally:
        runtime.close()
