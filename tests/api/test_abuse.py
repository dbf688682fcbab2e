"""reliability.md T4 over HTTP (in process, on SQLite and PostgreSQL, the clock moved, never
slept): the token endpoint and API key checks are rate limited per source and per key (429 with
Retry-After in IBM's envelope), and failed API key checks lock the source out with a backoff,
during which a correct key gets exactly the answer a wrong one gets.

The suite runs with generous limits (tests/conftest.py); every server here is built with the
§4 defaults, read from `Settings`' own field defaults.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom import bootstrap
from strongroom.bootstrap import Runtime
from strongroom.config import Settings
from strongroom.identity.key_checks import APIKEY_GRANT_IDENTITY
from strongroom.identity.lockout import subject_of
from strongroom.testing import FrozenClock
from tests.conftest import SERVER_BACKENDS, database_url_for

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KEY = "abuse-owner-" + "k" * 40
LIMITS = (
    "rate_limit_per_source",
    "rate_limit_per_apikey",
    "lockout_failures",
    "lockout_window_seconds",
    "lockout_wait_seconds",
    "lockout_max_wait_seconds",
    "lockout_reset_seconds",
)
DEFAULTS: dict[str, Any] = {name: Settings.model_fields[name].default for name in LIMITS}
ATTACKER, USER = "203.0.113.66", "198.51.100.7"
TRACE = "abuse-test-trace"  # sent as Transaction-Id, which every answer echoes


def test_the_defaults_are_reliability_section_4() -> None:
    assert DEFAULTS == {
        "rate_limit_per_source": 10.0,  # 10 requests/s per source
        "rate_limit_per_apikey": 10.0,
        "lockout_failures": 10,  # 10 failures / 5 min
        "lockout_window_seconds": 300,
        "lockout_wait_seconds": 60,  # 60 s doubling to <= 15 min, reset after 12 h
        "lockout_max_wait_seconds": 900,
        "lockout_reset_seconds": 43_200,
    }


@dataclass
class World:
    runtime: Runtime
    clock: FrozenClock
    url: str | None
    data_dir: Path

    def call(
        self,
        method: str,
        path: str,
        source: str,
        *,
        runtime: Runtime | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        app = (runtime or self.runtime).app
        headers = {"Transaction-Id": TRACE, **kwargs.pop("headers", {})}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, client=(source, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://sr.test") as c:
                return await c.request(method, path, headers=headers, **kwargs)

        return asyncio.run(send())

    def exchange(self, source: str, apikey: str, **kwargs: Any) -> httpx.Response:
        form = {"grant_type": APIKEY_GRANT, "apikey": apikey}
        return self.call("POST", "/identity/token", source, data=form, **kwargs)

    def token(self, source: str = USER) -> str:
        response = self.exchange(source, KEY)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def new_key(self) -> str:
        """A second API key of the owner's (made from another source, not to spend USER's)."""
        bearer = {"Authorization": f"Bearer {self.token('192.0.2.200')}"}
        iam_id = self.runtime.first_start.owner.iam_id  # type: ignore[union-attr]
        made = self.call(
            "POST",
            "/v1/apikeys",
            "192.0.2.200",
            json={"name": "second", "iam_id": iam_id},
            headers=bearer,
        )
        assert made.status_code == 201, made.text
        self.clock.advance(1)
        return str(made.json()["apikey"])

    def second_node(self) -> Runtime:
        return bootstrap.build(settings(self.data_dir, self.url), self.clock)


def settings(data_dir: Path, url: str | None) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, bootstrap_apikey=KEY, **DEFAULTS)


@pytest.fixture(params=SERVER_BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with ExitStack() as stack:
        url = database_url_for(request.param, stack, str(tmp_path))
        clock = FrozenClock(datetime(2026, 5, 4, 8, tzinfo=UTC))
        runtime = bootstrap.build(settings(tmp_path, url), clock)
        stack.callback(runtime.close)
        yield World(runtime, clock, url, tmp_path)


def wrong() -> str:
    return "guess-" + secrets.token_urlsafe(32)


# -- rate limits -----------------------------------------------------------------------------------


def test_token_endpoint_gives_429_with_retry_after_past_ten_a_second_per_source(
    world: World,
) -> None:
    # Every grant type spends from the source's bucket, malformed ones too.
    for _ in range(4):
        assert world.exchange(ATTACKER, KEY).status_code == 200
    for _ in range(3):
        refresh = {"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"}
        assert world.call("POST", "/identity/token", ATTACKER, data=refresh).status_code == 400
    for _ in range(3):
        assert world.call("POST", "/oidc/token", ATTACKER, data={}).status_code == 400
    refused = world.exchange(ATTACKER, KEY)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    body = refused.json()
    # The token endpoint's envelope (spec §2.7), as IBM's SDKs read it.
    assert body["errorCode"] == "BXNIM0429E"
    assert "too many requests" in body["errorMessage"]
    assert body["context"]["requestId"] == TRACE
    # Another source is not affected, and a second later the first may go on.
    assert world.exchange(USER, KEY).status_code == 200
    world.clock.advance(0.1)  # one request's worth of refill
    assert world.exchange(ATTACKER, KEY).status_code == 200
    assert world.exchange(ATTACKER, KEY).status_code == 429
    world.clock.advance(1)
    assert world.exchange(ATTACKER, KEY).status_code == 200


def test_one_api_key_is_limited_however_many_sources_use_it(world: World) -> None:
    other = world.new_key()
    sources = [f"192.0.2.{n}" for n in range(1, 12)]
    answers = [world.exchange(source, KEY).status_code for source in sources]
    assert answers == [200] * 10 + [429]
    refused = world.exchange("192.0.2.50", KEY)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "this API key" in refused.json()["errorMessage"]
    # Another key of the same identity has its own bucket.
    assert world.exchange("192.0.2.51", other).status_code == 200
    world.clock.advance(1)
    assert world.exchange("192.0.2.52", KEY).status_code == 200


def test_api_key_details_is_rate_limited_per_source_in_the_identity_envelope(
    world: World,
) -> None:
    bearer = {"Authorization": f"Bearer {world.token()}"}
    other = world.new_key()
    details = {**bearer, "IAM-ApiKey": other}
    statuses = [
        world.call("GET", "/v1/apikeys/details", ATTACKER, headers=details).status_code
        for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    refused = world.call("GET", "/v1/apikeys/details", ATTACKER, headers=details)
    assert refused.headers["Retry-After"] == "1"
    body = refused.json()
    assert body["status_code"] == "429" and body["trace"] == TRACE
    assert body["errors"][0]["code"] == "too_many_requests"
    world.clock.advance(1)
    assert world.call("GET", "/v1/apikeys/details", ATTACKER, headers=details).status_code == 200


# -- lockout ---------------------------------------------------------------------------------------


def fail_until_locked(world: World, source: str, failures: int = 10) -> None:
    for n in range(failures):
        response = world.exchange(source, wrong())
        assert response.status_code == 400, (n, response.text)
        world.clock.advance(0.2)  # under the rate limit


def same_answer(a: httpx.Response, b: httpx.Response) -> None:
    """Byte for byte: status, headers and body (both carry the same Transaction-Id)."""
    assert a.status_code == b.status_code
    assert a.headers.multi_items() == b.headers.multi_items()
    assert a.content == b.content


def test_during_a_lockout_a_correct_key_gets_exactly_the_wrong_key_answer(world: World) -> None:
    for _ in range(9):
        assert world.exchange(ATTACKER, wrong()).status_code == 400
        world.clock.advance(0.2)
    # Nine failures: not yet locked; a success does not clear the count.
    assert world.exchange(ATTACKER, KEY).status_code == 200
    wrong_answer = world.exchange(ATTACKER, wrong())  # the tenth failure: locked from now
    assert wrong_answer.json()["errorCode"] == "BXNIM0415E"
    world.clock.advance(0.2)
    locked_answer = world.exchange(ATTACKER, KEY)
    same_answer(locked_answer, wrong_answer)
    same_answer(world.exchange(ATTACKER, wrong()), wrong_answer)
    # 0 collateral lockouts: the owner's own source is not locked by the attacker's failures.
    assert world.exchange(USER, KEY).status_code == 200
    world.clock.advance(59)
    same_answer(world.exchange(ATTACKER, KEY), wrong_answer)
    world.clock.advance(1.5)  # 60 s after the lockout began
    assert world.exchange(ATTACKER, KEY).status_code == 200


def test_lockouts_double_from_60_s_to_at_most_15_min_and_are_forgotten_after_12_h(
    world: World,
) -> None:
    def locked_for() -> int:
        """The whole minutes-or-part the source stays locked (the 10th failure was 0.2 s ago):
        probed at the candidate lengths, refused just before the right one, let in at it."""
        waited = 0.2
        for wait in (60, 120, 240, 480, 900, 1800):
            world.clock.advance(wait - 0.5 - waited)
            if world.exchange(ATTACKER, KEY).status_code == 200:
                return -1  # open before `wait`: not one of the expected lengths
            world.clock.advance(0.5)
            if world.exchange(ATTACKER, KEY).status_code == 200:
                return wait
            waited = wait
        return -2

    waits = []
    for _ in range(6):
        fail_until_locked(world, ATTACKER)
        waits.append(locked_for())
    assert waits == [60, 120, 240, 480, 900, 900]
    world.clock.advance(12 * 3600)
    fail_until_locked(world, ATTACKER)
    assert locked_for() == 60


def test_failures_spread_wider_than_the_window_do_not_lock(world: World) -> None:
    for _ in range(30):
        assert world.exchange(ATTACKER, wrong()).status_code == 400
        world.clock.advance(301 / 9)  # at most 9 failures in any 5 minutes
    assert world.exchange(ATTACKER, KEY).status_code == 200


def test_api_key_details_lockout_is_per_caller_and_source(world: World) -> None:
    bearer = {"Authorization": f"Bearer {world.token()}"}
    other = world.new_key()

    def details(source: str, value: str) -> httpx.Response:
        headers = {**bearer, "IAM-ApiKey": value}
        response = world.call("GET", "/v1/apikeys/details", source, headers=headers)
        world.clock.advance(0.2)
        return response

    for _ in range(10):
        assert details(ATTACKER, wrong()).status_code == 404
    not_found = details(ATTACKER, wrong())
    assert not_found.json()["errors"][0]["code"] == "not_found"
    same_answer(details(ATTACKER, other), not_found)
    assert details(USER, other).status_code == 200  # the same caller elsewhere: not locked
    world.clock.advance(60)
    assert details(ATTACKER, other).status_code == 200


def test_the_lockout_is_shared_by_the_nodes_of_one_database(world: World) -> None:
    second = world.second_node()
    try:
        fail_until_locked(world, ATTACKER)
        form = {"grant_type": APIKEY_GRANT, "apikey": KEY}
        elsewhere = world.call("POST", "/identity/token", ATTACKER, runtime=second, data=form)
        assert elsewhere.status_code == 400
        assert elsewhere.json()["errorCode"] == "BXNIM0415E"
        world.clock.advance(60)
        again = world.call("POST", "/identity/token", ATTACKER, runtime=second, data=form)
        assert again.status_code == 200
    finally:
        second.close()


def test_a_guessing_attack_gets_at_most_ten_guesses_per_lockout_window(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """T4's attack: 10,000 guesses with STRONGROOM_HEAVY=1 (1,000 by default), one a second
    from one source, the correct key among them whenever the source is locked; the owner signs
    in from another source throughout."""
    guesses = 10_000 if os.environ.get("STRONGROOM_HEAVY") == "1" else 1_000
    checks = world.runtime.container.key_checks
    identity = world.runtime.container.identity
    subject = subject_of(APIKEY_GRANT_IDENTITY, ATTACKER)
    evaluated: Counter[int] = Counter()  # lockouts so far -> guesses evaluated since
    real = identity.authenticate

    def lockouts() -> int:
        with world.runtime.uow() as unit:
            record = unit.auth_failures.get(subject)
        return 0 if record is None else record.lockouts

    def counting(value: str) -> Any:
        if value != KEY:  # the attacker's guesses (the owner signs in with KEY elsewhere)
            evaluated[lockouts()] += 1
        return real(value)

    monkeypatch.setattr(identity, "authenticate", counting)
    successes = refused = planted = 0
    for n in range(guesses):
        locked = checks.lockout.locked(subject)
        value = KEY if locked and n % 7 == 0 else wrong()  # the real key, while locked
        planted += value == KEY
        answer = world.exchange(ATTACKER, value)
        successes += answer.status_code == 200
        refused += answer.status_code == 400 and answer.json()["errorCode"] == "BXNIM0415E"
        if n % 50 == 0:  # the owner, elsewhere: never locked out (0 collateral lockouts)
            assert world.exchange(USER, KEY).status_code == 200
        world.clock.advance(1)
    windows = lockouts()
    with world.runtime.uow() as unit:
        tracked = unit.auth_failures.count()
    with capsys.disabled():
        print(
            f"\nT4 attack ({world.url or 'sqlite'}): {guesses} guesses, {planted} of them the"
            f" real key while locked; {sum(evaluated.values())} evaluated over {windows}"
            f" lockouts; at most {max(evaluated.values())} per window; {successes} successes"
        )
    assert successes == 0 and refused == guesses
    assert planted > 0
    assert max(evaluated.values()) <= 10
    assert sum(evaluated.values()) <= 10 * (windows + 1)
    # The state the attack left: one lockout record (the source), no per-value state, and the
    # per-key buckets hold only the owner's key.
    assert tracked == 1
    assert len(checks._per_key) == 1


def test_choosing_an_api_key_value_cannot_probe_for_values_past_the_lockout(
    world: World,
) -> None:
    """POST /v1/apikeys with a value of the caller's choosing answers 409 when another key has
    it: ten of those lock the caller's source, after which a free value gets the same 409."""
    bearer = {"Authorization": f"Bearer {world.token()}"}
    iam_id = world.runtime.first_start.owner.iam_id  # type: ignore[union-attr]

    def create(source: str, value: str) -> httpx.Response:
        body = {"name": "chosen", "iam_id": iam_id, "apikey": value}
        response = world.call("POST", "/v1/apikeys", source, json=body, headers=bearer)
        world.clock.advance(0.2)
        return response

    for _ in range(9):
        assert create(ATTACKER, KEY).status_code == 409  # the owner's value: in use
    in_use = create(ATTACKER, KEY)
    assert in_use.json()["errors"][0]["message"].startswith("that API key value is already")
    same_answer(create(ATTACKER, "free-" + secrets.token_urlsafe(32)), in_use)
    assert create(USER, "free-" + secrets.token_urlsafe(32)).status_code == 201
    world.clock.advance(60)
    assert create(ATTACKER, "free-" + secrets.token_urlsafe(32)).status_code == 201
