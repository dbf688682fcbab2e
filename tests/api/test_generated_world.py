"""The benchmark world generator (benchmarks/world.py, issue 7) writes rows the server reads: a
server built on a generated world compiles every account, and `/v2/authz` answers the recorded
questions as the generated policies say, on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from benchmarks import world
from pydantic import SecretStr

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.store.sql import tables as t
from strongroom.testing import InProcessClient
from tests.conftest import SERVER_BACKENDS, database_url_for

SHAPE = world.Shape(accounts=6, identities=300, policies=3_000, large_policies=1_000, probes=3)
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_generated_world_loads_and_answers(backend: str, tmp_path: Path) -> None:
    with ExitStack() as stack:
        url = database_url_for(backend, stack, str(tmp_path))
        made = world.generate(tmp_path, url, SHAPE, progress=lambda _: None)
        assert made.rows["policies"] == SHAPE.policies
        assert made.rows["accounts"] == SHAPE.accounts - SHAPE.probes  # the rest via the service
        settings = Settings(
            data_dir=tmp_path, database_url=url, bootstrap_apikey=SecretStr("unused-" * 6)
        )
        runtime = bootstrap.build(settings)
        stack.callback(runtime.close)
        assert runtime.first_start is None  # the world's first account is the bootstrap one

        with runtime.database.engine.connect() as conn:
            accounts = list(conn.execute(sa.select(t.accounts.c.id)).scalars())
        assert len(accounts) == SHAPE.accounts
        with runtime.uow() as uow:
            for probe in made.probes:  # the generated policies and the owner's two
                assert uow.policies.count(probe.account_id) == probe.policies + 2
            assert all(uow.revisions.current(a) >= 1 for a in accounts)
        for account in accounts:  # every stored policy parses and compiles
            runtime.container.authorizer.access_of(account)  # type: ignore[attr-defined]

        client = InProcessClient(runtime.app)
        assert made.probes[0].policies == SHAPE.large_policies
        for probe in made.probes:
            form = {"grant_type": APIKEY_GRANT, "apikey": probe.apikey}
            token = client.request("POST", "/identity/token", data=form).json()["access_token"]
            stranger = {**probe.questions[0], "subject": {"attributes": {"id": "iam-nobody"}}}
            response = client.request(
                "POST",
                "/v2/authz",
                json=[*probe.questions, stranger],
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            permitted = [
                r["authorizationDecision"]["permitted"] for r in response.json()["responses"]
            ]
            assert len(probe.questions) == 8
            assert permitted == [True] * 8 + [False]
