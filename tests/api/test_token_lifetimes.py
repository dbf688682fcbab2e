"""reliability.md T2: access-token lifetimes, the refresh tokens' absolute cap, rotation on use,
reuse revoking the family, and no token outliving the identity behind it. Time moves by the
injected clock (FrozenClock), never by sleeping."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from strongroom.config import Settings
from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.conftest import SERVER_BACKENDS, start_server

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
BX = ("bx", "bx")
HOUR = 3600
CAP = 72 * HOUR  # IBM: refresh tokens are good for at most 72 h (spec §3.3; reliability.md §4)


class World:
    def __init__(self, server: LiveServer, clock: FrozenClock) -> None:
        self.server, self.clock = server, clock
        self.http = httpx.Client(base_url=server.url, timeout=10)

    def login(self, apikey: str | None = None) -> dict[str, Any]:
        response = self.http.post(
            "/identity/token",
            data={"grant_type": APIKEY_GRANT, "apikey": apikey or self.server.apikey},
            auth=BX,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def refresh(self, token: str) -> httpx.Response:
        return self.http.post(
            "/identity/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=BX,
        )

    def owner(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(self.http, self.server.apikey)}"}


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    clock = FrozenClock()
    with ExitStack() as stack:
        server = start_server(
            request.param, str(tmp_path_factory.mktemp("lifetimes")), stack, clock=clock
        )
        found = World(server, clock)
        stack.callback(found.http.close)
        yield found


def lifetime(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False})
    return int(claims["exp"]) - int(claims["iat"])


def test_settings_refuse_lifetimes_past_the_caps(tmp_path: Path) -> None:
    defaults = Settings(data_dir=tmp_path)
    assert (defaults.access_token_ttl, defaults.refresh_token_ttl) == (HOUR, CAP)
    for too_long in ({"access_token_ttl": HOUR + 1}, {"refresh_token_ttl": CAP + 1}):
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, **too_long)  # type: ignore[arg-type]
    shorter = Settings(data_dir=tmp_path, access_token_ttl=900, refresh_token_ttl=HOUR)
    assert (shorter.access_token_ttl, shorter.refresh_token_ttl) == (900, HOUR)


def test_every_access_token_lives_at_most_the_configured_ttl(world: World) -> None:
    login = world.login()
    tokens = [login["access_token"], token_for(world.http, world.server.apikey)]
    current = login["refresh_token"]
    for _ in range(5):
        world.clock.advance(HOUR)
        rotated = world.refresh(current)
        assert rotated.status_code == 200, rotated.text
        tokens.append(rotated.json()["access_token"])
        assert rotated.json()["expires_in"] == HOUR
        current = rotated.json()["refresh_token"]
    violations = sum(lifetime(t) > world.server.settings.access_token_ttl for t in tokens)
    assert violations == 0
    assert {lifetime(t) for t in tokens} == {HOUR}


def test_a_configured_shorter_ttl_is_what_tokens_get(tmp_path: Path) -> None:
    with ExitStack() as stack:
        server = start_server(
            "sqlite",
            str(tmp_path),
            stack,
            clock=FrozenClock(),
            settings_overrides={"access_token_ttl": 900},
        )
        with httpx.Client(base_url=server.url) as http:
            body = http.post(
                "/identity/token",
                data={"grant_type": APIKEY_GRANT, "apikey": server.apikey},
                auth=BX,
            ).json()
            assert body["expires_in"] == 900 and lifetime(body["access_token"]) == 900
            body = http.post(
                "/identity/token",
                data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                auth=BX,
            ).json()
            assert lifetime(body["access_token"]) == 900


def test_sliding_refresh_never_passes_the_absolute_cap(world: World) -> None:
    current = world.login()["refresh_token"]
    elapsed = 0
    # Refresh every 7 h: each new refresh token keeps the family's first expiry.
    while elapsed + 7 * HOUR < CAP:
        world.clock.advance(7 * HOUR)
        elapsed += 7 * HOUR
        rotated = world.refresh(current)
        assert rotated.status_code == 200, (elapsed, rotated.text)
        current = rotated.json()["refresh_token"]
    world.clock.advance(CAP - elapsed - 1)  # one second before the cap: still good
    rotated = world.refresh(current)
    assert rotated.status_code == 200, rotated.text
    world.clock.advance(1)  # exactly 72 h after the login: over
    refused = world.refresh(rotated.json()["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "BXNIM0407E"


def test_refresh_tokens_rotate_and_any_replay_revokes_the_whole_family(world: World) -> None:
    """Each use returns a new token and spends the used one; presenting a spent one (of any
    generation) is refused and kills every token of that login, not other logins'."""
    rng = random.Random(8)
    families, replays_rejected, families_revoked = 20, 0, 0
    for _ in range(families):
        bystander = world.login()["refresh_token"]  # another login of the same identity
        chain = [world.login()["refresh_token"]]
        for _ in range(rng.randint(1, 5)):
            world.clock.advance(60)
            rotated = world.refresh(chain[-1])
            assert rotated.status_code == 200, rotated.text
            new = rotated.json()["refresh_token"]
            assert new not in chain
            chain.append(new)
        replayed = rng.choice(chain[:-1])
        replay = world.refresh(replayed)
        if replay.status_code == 400 and "already used" in replay.json()["errorMessage"]:
            replays_rejected += 1
        # The thief's replay revoked the family: the legitimate holder's newest token is dead.
        if all(world.refresh(t).status_code == 400 for t in chain):
            families_revoked += 1
        still = world.refresh(bystander)
        assert still.status_code == 200, still.text
    assert (replays_rejected, families_revoked) == (families, families)


def test_the_winner_of_a_replay_race_loses_its_token_too(world: World) -> None:
    """A stolen token used first by the thief: the victim's later use is the replay, and the
    thief's fresh token dies with the family."""
    stolen = world.login()["refresh_token"]
    thief = world.refresh(stolen)
    assert thief.status_code == 200
    victim = world.refresh(stolen)
    assert victim.status_code == 400
    assert world.refresh(thief.json()["refresh_token"]).status_code == 400
    assert world.refresh("not-a-refresh-token").status_code == 400


def _service_id_key(world: World, owner: dict[str, str]) -> tuple[str, str, str]:
    made = world.http.post(
        "/v1/serviceids/",
        json={"name": f"sid-{uuid.uuid4().hex[:6]}", "account_id": world.server.account_id},
        headers=owner,
    )
    assert made.status_code == 201, made.text
    sid = made.json()
    key = world.http.post(
        "/v1/apikeys",
        json={"name": "k", "iam_id": sid["iam_id"], "account_id": world.server.account_id},
        headers=owner,
    )
    assert key.status_code == 201, key.text
    return sid["id"], key.json()["id"], key.json()["apikey"]


def test_no_refresh_token_outlives_its_api_key_service_id_or_user(world: World) -> None:
    owner = world.owner()
    outlived = []

    def gone(name: str, refresh_token: str, apikey: str) -> None:
        if world.refresh(refresh_token).status_code != 400:
            outlived.append(f"{name}: refresh")
        granted = world.http.post(
            "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": apikey}
        )
        if granted.status_code != 400:
            outlived.append(f"{name}: apikey grant")

    _, key_id, apikey = _service_id_key(world, owner)
    token = world.login(apikey)["refresh_token"]
    assert world.http.post(f"/v1/apikeys/{key_id}/disable", headers=owner).status_code == 204
    gone("disabled API key", token, apikey)

    _, key_id, apikey = _service_id_key(world, owner)
    token = world.login(apikey)["refresh_token"]
    assert world.http.delete(f"/v1/apikeys/{key_id}", headers=owner).status_code == 204
    gone("deleted API key", token, apikey)

    sid, _, apikey = _service_id_key(world, owner)
    token = world.login(apikey)["refresh_token"]
    assert world.http.delete(f"/v1/serviceids/{sid}", headers=owner).status_code == 204
    gone("deleted service ID", token, apikey)

    account = world.server.account_id
    invited = world.http.post(
        f"/v2/accounts/{account}/users",
        json={"users": [{"email": f"u.{uuid.uuid4().hex[:6]}@example.com"}]},
        headers=owner,
    ).json()["resources"][0]["id"]
    apikey = world.http.post(
        "/v1/apikeys", json={"name": "u", "iam_id": invited, "account_id": account}, headers=owner
    ).json()["apikey"]
    token = world.login(apikey)["refresh_token"]
    removed = world.http.delete(f"/v2/accounts/{account}/users/{invited}", headers=owner)
    assert removed.status_code == 204, removed.text
    gone("removed user", token, apikey)

    assert outlived == []
