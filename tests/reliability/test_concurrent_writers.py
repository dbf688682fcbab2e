"""Concurrent read-modify-write with If-Match (reliability.md C6 and S3a).

50 writer threads, each with its own HTTP connection to a live server (SQLite and PostgreSQL),
race on ONE object: a policy, an access group, a service ID, an API key, a custom role. Each
round they meet at a barrier, GET the object, add one to the counter kept in its description,
and write it back with `If-Match: <the tag they read>`. Checked:

* every answer is the write's success status or 412 (no 500, no `database is locked`);
* the successful writes form one chain: each was based on the tag the previous one produced,
  so each generation has exactly one winner;
* every 412 named a stale tag (one some other write had already replaced);
* the final counter equals the number of successful writes: 0 lost updates;
* an update without If-Match is refused with 428 (identity/requests.py, spec §1 fact 6) and
  changes nothing.

The negative control runs the same race with `If-Match: *` (write whatever the version): it
must lose updates, which proves the checker would see them.

Default: 50 writers x 5 rounds. STRONGROOM_HEAVY=1: 50 writers x 100 rounds.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.reliability import HEAVY

WRITERS = 50
ROUNDS = 100 if HEAVY else 5
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"


@dataclass(frozen=True)
class Target:
    """One object and how to read its counter and write a new one."""

    path: str
    method: str
    body: Callable[[dict[str, Any], int], dict[str, Any]]  # (what GET answered, new counter)
    counter: Callable[[dict[str, Any]], int]


def _description(doc: dict[str, Any]) -> int:
    return int(doc.get("description") or "0")


def _policy_body(doc: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        **{k: doc[k] for k in ("type", "subjects", "roles", "resources")},
        "description": str(n),
    }


def _role_body(doc: dict[str, Any], n: int) -> dict[str, Any]:
    return {"display_name": doc["display_name"], "actions": doc["actions"], "description": str(n)}


def make_targets(
    http: httpx.Client, server: LiveServer, bearer: dict[str, str]
) -> dict[str, Target]:
    account, tag = server.account_id, uuid.uuid4().hex[:8]

    def made(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 201, response.text
        return dict(response.json())

    policy = made(
        http.post(
            "/v1/policies",
            json={
                "type": "access",
                "description": "0",
                "subjects": [{"attributes": [{"name": "iam_id", "value": f"IBMid-c6-{tag}"}]}],
                "roles": [{"role_id": VIEWER}],
                "resources": [
                    {
                        "attributes": [
                            {"name": "accountId", "value": account},
                            {"name": "serviceName", "value": "kms"},
                        ]
                    }
                ],
            },
            headers=bearer,
        )
    )
    group = made(
        http.post(
            "/v2/groups",
            params={"account_id": account},
            json={"name": f"c6 {tag}", "description": "0"},
            headers=bearer,
        )
    )
    sid = made(
        http.post(
            "/v1/serviceids/",
            json={
                "account_id": account,
                "name": f"c6-{tag}",
                "description": "0",
                "apikey": {"name": "c6", "description": "0"},
            },
            headers=bearer,
        )
    )
    role = made(
        http.post(
            "/v2/roles",
            json={
                "name": f"CSix{tag}",
                "account_id": account,
                "service_name": "iam-groups",
                "display_name": "C6",
                "description": "0",
                "actions": ["iam-groups.groups.read"],
            },
            headers=bearer,
        )
    )

    def described(_doc: dict[str, Any], n: int) -> dict[str, Any]:
        return {"description": str(n)}

    return {
        "policy": Target(f"/v1/policies/{policy['id']}", "PUT", _policy_body, _description),
        "access group": Target(f"/v2/groups/{group['id']}", "PATCH", described, _description),
        "service ID": Target(f"/v1/serviceids/{sid['id']}", "PUT", described, _description),
        "API key": Target(f"/v1/apikeys/{sid['apikey']['id']}", "PUT", described, _description),
        "custom role": Target(f"/v2/roles/{role['id']}", "PUT", _role_body, _description),
    }


def _tag(response: httpx.Response) -> str:
    return response.headers.get("ETag") or str(response.json()["entity_tag"])


@dataclass
class Attempt:
    sent: str  # the If-Match tag
    status: int
    new_tag: str = ""
    counter: int = 0  # what it wrote
    text: str = ""


@dataclass
class Race:
    attempts: list[Attempt] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def race(server: LiveServer, bearer: dict[str, str], target: Target, *, conditional: bool) -> Race:
    """WRITERS threads x ROUNDS read-modify-write rounds on `target`, all starting together."""
    result = Race()
    barrier = threading.Barrier(WRITERS)

    def writer() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for _ in range(ROUNDS):
                try:
                    barrier.wait(timeout=120)
                    read = client.get(target.path, headers=bearer)
                    if read.status_code != 200:
                        raise AssertionError(f"GET {read.status_code}: {read.text[:200]}")
                    doc, tag = read.json(), _tag(read)
                    n = target.counter(doc) + 1
                    sent = tag if conditional else "*"
                    written = client.request(
                        target.method,
                        target.path,
                        json=target.body(doc, n),
                        headers={**bearer, "If-Match": sent},
                    )
                    attempt = Attempt(tag, written.status_code, counter=n, text=written.text[:300])
                    if written.status_code == 200:
                        attempt.new_tag = _tag(written)
                    with result.lock:
                        result.attempts.append(attempt)
                except Exception as exc:  # reported below; the barrier must not hang the others
                    with result.lock:
                        result.errors.append(repr(exc))
                    barrier.abort()
                    return

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return result


@pytest.mark.parametrize("kind", ["policy", "access group", "service ID", "API key", "custom role"])
def test_concurrent_writers_lose_no_update(
    server: LiveServer, http: httpx.Client, kind: str
) -> None:
    bearer = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
    target = make_targets(http, server, bearer)[kind]
    start_tag = _tag(http.get(target.path, headers=bearer))

    # An update without If-Match is refused and changes nothing.
    bare = http.request(
        target.method,
        target.path,
        json=target.body(http.get(target.path, headers=bearer).json(), 99),
        headers=bearer,
    )
    assert bare.status_code == 428, bare.text
    assert _tag(http.get(target.path, headers=bearer)) == start_tag

    result = race(server, bearer, target, conditional=True)
    assert result.errors == []
    assert len(result.attempts) == WRITERS * ROUNDS
    odd = [(a.status, a.text) for a in result.attempts if a.status not in (200, 412)]
    assert odd == [], f"{kind}: answers other than 200/412 (S3a: no 5xx, no lock errors)"
    wins = [a for a in result.attempts if a.status == 200]
    # One chain: from the start tag, each win replaces exactly the tag the previous one made.
    by_sent = {}
    for win in wins:
        assert win.sent not in by_sent, f"{kind}: two writers won generation {win.sent}"
        by_sent[win.sent] = win
    chain, tag = [], start_tag
    while tag in by_sent:
        chain.append(by_sent[tag])
        tag = by_sent[tag].new_tag
    assert len(chain) == len(wins), f"{kind}: a win was not based on the previous one"
    replaced = set(by_sent)
    stale = [a.sent for a in result.attempts if a.status == 412]
    assert all(s in replaced for s in stale), f"{kind}: 412 for a tag that was current"
    final = http.get(target.path, headers=bearer)
    assert _tag(final) == tag
    assert target.counter(final.json()) == len(wins), f"{kind}: lost updates"
    assert [w.counter for w in chain] == list(range(1, len(wins) + 1))
    assert len(wins) >= ROUNDS  # every round has a winner
    print(f"\nC6 {kind}: {len(result.attempts)} writes, {len(wins)} won, {len(stale)} got 412")


def test_the_negative_control_sees_lost_updates(server: LiveServer, http: httpx.Client) -> None:
    """Without a real If-Match (`*`: any version) the same race loses updates, and the checker
    above (final counter vs successful writes) sees it; otherwise that test would be void."""
    bearer = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
    target = make_targets(http, server, bearer)["access group"]
    result = race(server, bearer, target, conditional=False)
    assert result.errors == []
    assert {a.status for a in result.attempts} <= {200, 412}
    wins = [a for a in result.attempts if a.status == 200]
    final = target.counter(http.get(target.path, headers=bearer).json())
    print(f"\nC6 control: {len(wins)} unconditional writes won, final counter {final}")
    assert final < len(wins), "the checker saw no lost update without If-Match"
