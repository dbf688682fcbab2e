"""The authorizer's cache of compiled accounts (docs/deployment.md): bounded, least recently used
out first, and in strong mode coherent with a change another process committed (two runtimes on
one SQLite file stand for two nodes; tests/scale/test_two_nodes.py runs real nodes on
PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from strongroom import bootstrap
from strongroom.access.records import new_record
from strongroom.authz import Resource
from strongroom.config import Settings
from strongroom.tokens.claims import Principal
from tests.api.access_store import access_policy

READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
KEY = "k" * 40


def runtime_on(tmp_path: Path, **settings: Any) -> bootstrap.Runtime:
    return bootstrap.build(Settings(data_dir=tmp_path, bootstrap_apikey=KEY, **settings))


def account_of(runtime: bootstrap.Runtime) -> tuple[str, str]:
    """The account and owner the first node made on its first start."""
    first = runtime.first_start
    assert first is not None
    return first.account.id, first.owner.iam_id


def grant_reader(runtime: bootstrap.Runtime, account: str, owner: str, subject: str) -> None:
    """A Reader policy on kms for `subject`, committed with its revision bump, as the API does,
    but without telling any authorizer."""
    document = access_policy(subject, account, [READER], serviceName="kms")
    now = datetime.now(UTC)
    with runtime.uow(write=True) as unit:
        unit.policies.add(new_record(document, version="v2", account_id=account, by=owner, now=now))
        unit.revisions.bump(account)


def may_wrap(runtime: bootstrap.Runtime, account: str, subject: str) -> bool:
    principal = Principal(iam_id=subject, account_id=account, sub_type="ServiceId", claims={})
    verdict = runtime.container.authorizer.authorize(
        principal, "kms.secrets.wrap", Resource(account, "kms")
    )
    return bool(verdict.permitted)


def test_the_cache_holds_at_most_the_configured_accounts_least_recently_used_out(
    tmp_path: Path,
) -> None:
    runtime = runtime_on(tmp_path, policy_cache_accounts=2)
    try:
        account, owner = account_of(runtime)
        subject = f"iam-ServiceId-{uuid.uuid4()}"
        grant_reader(runtime, account, owner, subject)
        authorizer = runtime.container.authorizer
        assert may_wrap(runtime, account, subject)
        authorizer.access_of("other-1")
        assert authorizer.cached_accounts() == [account, "other-1"]
        assert may_wrap(runtime, account, subject)  # used again: now the most recent
        authorizer.access_of("other-2")
        assert authorizer.cached_accounts() == [account, "other-2"]
        authorizer.access_of("other-3")
        authorizer.access_of("other-4")
        assert authorizer.cached_accounts() == ["other-3", "other-4"]
        # Evicted, then asked again: compiled afresh, with the same answer.
        assert may_wrap(runtime, account, subject)
        assert not may_wrap(runtime, account, f"iam-ServiceId-{uuid.uuid4()}")
        assert len(authorizer.cached_accounts()) == 2
    finally:
        runtime.close()


def test_strong_mode_sees_another_nodes_commit_at_the_next_check(tmp_path: Path) -> None:
    writer = runtime_on(tmp_path)
    strong = runtime_on(tmp_path, consistency="strong", max_staleness=60)
    cached = runtime_on(tmp_path, consistency="cached", max_staleness=60)
    try:
        assert strong.first_start is None and cached.first_start is None  # nodes that joined
        account, owner = account_of(writer)
        subject = f"iam-ServiceId-{uuid.uuid4()}"
        assert not may_wrap(strong, account, subject)
        assert not may_wrap(cached, account, subject)
        grant_reader(writer, account, owner, subject)
        assert may_wrap(strong, account, subject)
        # Cached, with no notices on SQLite and a 60 s bound: the compiled set stands.
        assert not may_wrap(cached, account, subject)
        cached.container.authorizer.invalidate(account)  # what a change notice does
        assert may_wrap(cached, account, subject)
    finally:
        for runtime in (writer, strong, cached):
            runtime.close()


def test_fresh_means_a_check_reads_no_store(tmp_path: Path) -> None:
    """`is_fresh` is what lets /v2/authz decide on the event loop (api/routers/authz.py): it must
    be true only while a check would be answered from the cache alone."""
    cached = runtime_on(tmp_path, max_staleness=30.0)
    try:
        account, owner = account_of(cached)
        subject = f"iam-ServiceId-{uuid.uuid4()}"
        decisions, authorizer = cached.container.decisions, cached.container.authorizer
        authorizer.invalidate_all()
        assert not decisions.from_memory([account])  # not held yet
        assert not may_wrap(cached, account, subject)
        assert decisions.from_memory([account])
        assert not decisions.from_memory([account, "another-account"])
        grant_reader(cached, account, owner, subject)
        authorizer.invalidate(account)  # what a change notice does
        assert not decisions.from_memory([account])
        assert may_wrap(cached, account, subject)
        assert decisions.from_memory([account])
    finally:
        cached.close()
    strong = runtime_on(tmp_path / "strong", consistency="strong")
    try:
        account, _ = account_of(strong)
        assert not may_wrap(strong, account, f"iam-ServiceId-{uuid.uuid4()}")
        # Strong mode reads the stored revision at every check: never fresh.
        assert not strong.container.decisions.from_memory([account])
    finally:
        strong.close()
