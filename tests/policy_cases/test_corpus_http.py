"""The decision corpus through the HTTP API (ARCHITECTURE.md rule 9; reliability.md C4, S4).

Every case of every `*.yaml` here is sent through `POST /v2/authz` (and `/v2/authz/explain`, for
`permitted_by` and `reason_contains`) to a live server on SQLite and on PostgreSQL, and must
decide as the file expects, exactly as `test_corpus.py` checks the engine alone.

How a file is loaded: each of its accounts (the aliases, and any account a policy names) becomes
a real account made in process, whose owner asks the questions with the owner's own token (a
caller may ask only about accounts it holds `iam-access-management.authz.check` in). The
corpus's account ids are replaced by the real ones everywhere (policies, custom roles, cases,
expected reasons), so an id that "merely starts like A" still merely starts like the real A.
Policies and custom roles go straight into the store, as the Policy Management API would leave
them. Cases go in bulk, up to 1000 per call, grouped by the account they ask about.

Access-group memberships are looked up by the server, so a case's `access_groups` become real
groups and static members in the account of the policies naming each group (a group no policy
names grants nothing and is not made). The server sees the union of every case's memberships
for an identity; a case whose expectation the engine runner would not keep under that union is
skipped, with the reason, rather than asked something it never meant.

What HTTP cannot express is reported as a skip, with the reason:
- a case whose resource carries access tags: the server reads tags from the resource itself.
A case about an account the file does not define (an unknown or malformed id) is asked alone
and must be refused as a whole with 403: the owner of A may learn nothing about other accounts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.access.group_models import FederatedLogin
from strongroom.policy import decide
from strongroom.testing.server import LiveServer
from tests.api.access_store import PolicyEntry, RoleEntry, store_access, store_memberships
from tests.api.conftest import token_for
from tests.policy_cases.test_corpus import (
    DEFAULT_TIME,
    _account,
    _cases,
    _load,
    _policy_set,
    _request,
    group_rules,
    logins,
)

BATCH = 1000
GROUPS = (
    "the server sees the union of the file's memberships for this identity, under which the"
    " engine would decide the case otherwise; the engine runner (test_corpus.py) covers it"
)
TAGS = (
    "access tags are read from the resource by the server, which cannot be told them in a"
    " request; the engine runner (test_corpus.py) covers this case"
)


@dataclass
class Outcome:
    status: int
    permitted: bool | None = None
    explained: bool | None = None
    reason: str = ""
    policies: list[str] = field(default_factory=list)
    foreign: bool = False


@dataclass
class LoadedFile:
    accounts: dict[str, str]  # corpus account id -> the server's account id
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def swap(self, value: Any) -> Any:
        """`value` with every corpus account id replaced by the server's (longest first)."""
        if isinstance(value, str):
            for corpus in sorted(self.accounts, key=len, reverse=True):
                value = value.replace(corpus, self.accounts[corpus])
            return value
        if isinstance(value, Mapping):
            return {k: self.swap(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.swap(v) for v in value]
        return value


_LOADED: dict[tuple[str, Path], LoadedFile] = {}


def _corpus_accounts(data: Mapping[str, Any]) -> list[str]:
    named = [str(v) for v in data.get("accounts", {}).values()]
    named += [_account(data, str(p["account"])) for p in data.get("policies", [])]
    named += [_account(data, str(r["account"])) for r in data.get("custom_roles", [])]
    return list(dict.fromkeys(named))


def _store(server: LiveServer, data: Mapping[str, Any], loaded: LoadedFile) -> dict[str, str]:
    """Store the file's policies and custom roles; the server's policy ids -> the corpus's."""
    policies: dict[str, list[tuple[str, PolicyEntry]]] = {}
    for entry in data.get("policies", []):
        version = "v1" if "v1" in entry else "v2"
        account = loaded.accounts[_account(data, str(entry["account"]))]
        document = loaded.swap(entry[version])
        state = str(entry.get("state", "active"))
        policies.setdefault(account, []).append(
            (str(entry["id"]), PolicyEntry(document, version, state))
        )
    roles: dict[str, list[RoleEntry]] = {}
    for entry in data.get("custom_roles", []):
        account = loaded.accounts[_account(data, str(entry["account"]))]
        role = RoleEntry(
            loaded.swap(str(entry["crn"])), str(entry["service"]), tuple(entry["actions"])
        )
        roles.setdefault(account, []).append(role)
    names: dict[str, str] = {}
    for account in loaded.accounts.values():
        entries = policies.get(account, [])
        stored = store_access(server, account, [e for _, e in entries], roles.get(account, []))
        names.update(zip(stored, [corpus_id for corpus_id, _ in entries], strict=True))
    return names


def _group_accounts(data: Mapping[str, Any]) -> dict[str, str]:
    """Each access group a policy names -> that policy's (corpus) account."""
    found: dict[str, str] = {}

    def walk(node: Any, account: str) -> None:
        if isinstance(node, Mapping):
            if node.get("key", node.get("name")) == "access_group_id" and "value" in node:
                found[str(node["value"])] = account
            for value in node.values():
                walk(value, account)
        elif isinstance(node, list):
            for value in node:
                walk(value, account)

    for entry in data.get("policies", []):
        walk(entry.get("v1", entry.get("v2")), _account(data, str(entry["account"])))
    return found


def _memberships(
    server: LiveServer, path: Path, data: Mapping[str, Any], loaded: LoadedFile
) -> dict[str, frozenset[str]]:
    """Store the union of the cases' static memberships, the file's group rules and the cases'
    logins; iam_id -> the static groups the server will see."""
    accounts = _group_accounts(data)
    members: dict[str, dict[str, set[str]]] = {}  # server account -> group -> iam_ids
    seen: dict[str, set[str]] = {}
    made: dict[tuple[str, str, str], FederatedLogin] = {}
    for case in data.get("cases", []):
        subject = case.get("subject", {})
        iam_id = str(subject.get("iam_id", ""))
        for group in subject.get("access_groups", []):
            seen.setdefault(iam_id, set()).add(str(group))
            if iam_id and group in accounts:
                account = loaded.accounts[accounts[group]]
                members.setdefault(account, {}).setdefault(str(group), set()).add(iam_id)
        for login in logins(data, case, str(case["name"])):
            key = (login.account_id, login.iam_id, login.realm_name)
            # The server keeps one login per identity and realm: a file gives each one.
            assert made.setdefault(key, login) == login, f"{path.name}: two logins for {key}"
    rules = group_rules(path)
    for corpus_account, account in loaded.accounts.items():
        store_memberships(
            server,
            account,
            members.get(account, {}),
            [r for r in rules if r.account_id == corpus_account],
            [x for x in made.values() if x.account_id == corpus_account],
        )
    return {iam_id: frozenset(groups) for iam_id, groups in seen.items()}


def _kept_under_union(path: Path, case: Mapping[str, Any], union: frozenset[str]) -> bool:
    request = _request(case, str(case["name"]), path)
    widened = dataclasses.replace(
        request,
        subject=dataclasses.replace(
            request.subject, access_groups=request.subject.access_groups | union
        ),
    )
    decision = decide(widened, _policy_set(path))
    if decision.permitted != (case["expect"] == "permit"):
        return False
    if "permitted_by" in case and sorted(decision.policies) != sorted(case["permitted_by"]):
        return False
    return "reason_contains" not in case or str(case["reason_contains"]) in decision.reason


def _item(loaded: LoadedFile, case: Mapping[str, Any]) -> dict[str, Any]:
    subject = case.get("subject", {})
    attributes = {str(k): str(v) for k, v in loaded.swap(subject.get("attributes", {})).items()}
    if "iam_id" in subject:
        attributes["id"] = str(subject["iam_id"])
    return {
        "requestId": str(case["name"]),
        "subject": {"attributes": attributes},
        "action": str(case["action"]),
        "resource": {
            "attributes": {str(k): str(v) for k, v in loaded.swap(case["resource"]).items()}
        },
        "environment": {"attributes": {"current_date_time": str(case.get("time", DEFAULT_TIME))}},
    }


def _ask(
    http: httpx.Client, token: str, items: list[dict[str, Any]], names: Mapping[str, str]
) -> dict[str, Outcome]:
    headers = {"Authorization": f"Bearer {token}"}
    outcomes: dict[str, Outcome] = {}
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        decided = http.post("/v2/authz", json=chunk, headers=headers)
        explained = http.post("/v2/authz/explain", json=chunk, headers=headers)
        if decided.status_code != 200 or explained.status_code != 200:
            if len(chunk) > 1:
                # One case the API refuses must not fail its neighbours: ask each alone.
                for item in chunk:
                    outcomes.update(_ask(http, token, [item], names))
                continue
            refusal = decided if decided.status_code != 200 else explained
            outcomes[chunk[0]["requestId"]] = Outcome(refusal.status_code, reason=refusal.text)
            continue
        pairs = zip(decided.json()["responses"], explained.json()["responses"], strict=True)
        for item, (plain, why) in zip(chunk, pairs, strict=True):
            assert plain["requestId"] == why["requestId"] == item["requestId"]
            outcomes[item["requestId"]] = Outcome(
                200,
                permitted=plain["authorizationDecision"]["permitted"],
                explained=why["authorizationDecision"]["permitted"],
                reason=why["reason"],
                policies=[names.get(p, p) for p in why["policies"]],
            )
    return outcomes


def _run_file(server: LiveServer, path: Path) -> LoadedFile:
    key = (server.url, path)
    if key in _LOADED:
        return _LOADED[key]
    data = _load(path)
    loaded = LoadedFile(accounts={})
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=120) as http:
        for corpus_id in _corpus_accounts(data):
            created = server.container.identity.create_account(
                f"corpus {path.stem}", "corpus.owner@example.com", None
            )
            loaded.accounts[corpus_id] = created.account.id
            tokens[created.account.id] = token_for(http, created.owner_key.value)
        names = _store(server, data, loaded)
        union = _memberships(server, path, data, loaded)
        home = next(iter(tokens))
        batches: dict[str, list[dict[str, Any]]] = {account: [] for account in tokens}
        foreign: list[dict[str, Any]] = []
        for case in data.get("cases", []):
            iam_id = str(case.get("subject", {}).get("iam_id", ""))
            if iam_id in union and not _kept_under_union(path, case, union[iam_id]):
                loaded.skipped[case["name"]] = GROUPS
                continue
            if case.get("tags"):
                loaded.skipped[case["name"]] = TAGS
                continue
            item = _item(loaded, case)
            account = item["resource"]["attributes"].get("accountId") or home
            (batches[account] if account in tokens else foreign).append(item)
        for account, items in batches.items():
            loaded.outcomes.update(_ask(http, tokens[account], items, names))
        for item in foreign:
            refused = http.post(
                "/v2/authz", json=[item], headers={"Authorization": f"Bearer {tokens[home]}"}
            )
            loaded.outcomes[item["requestId"]] = Outcome(
                refused.status_code, reason=refused.text, foreign=True
            )
    _LOADED[key] = loaded
    return loaded


@pytest.mark.parametrize(("path", "case"), list(_cases()))
def test_case_over_http(server: LiveServer, path: Path, case: Mapping[str, Any]) -> None:
    loaded = _run_file(server, path)
    name = str(case["name"])
    where = f"{path.name}: {name}"
    if name in loaded.skipped:
        pytest.skip(loaded.skipped[name])
    outcome = loaded.outcomes[name]
    if outcome.foreign:
        assert case["expect"] == "deny", f"{where}: a permit in an account the file never made"
        assert outcome.status == 403, f"{where}: {outcome.status} {outcome.reason}"
        return
    assert outcome.status == 200, f"{where}: {outcome.status} {outcome.reason}"
    expected = case["expect"] == "permit"
    assert outcome.permitted == expected, (
        f"{where}: expected {case['expect']}, /v2/authz said"
        f" {'permit' if outcome.permitted else 'deny'} ({outcome.reason})"
    )
    assert outcome.explained == outcome.permitted, f"{where}: /v2/authz/explain disagrees"
    if "permitted_by" in case:
        assert sorted(outcome.policies) == sorted(case["permitted_by"]), (
            f"{where}: permitted by {outcome.policies}, expected {case['permitted_by']}"
        )
    if "reason_contains" in case:
        wanted = loaded.swap(str(case["reason_contains"]))
        assert wanted in outcome.reason, f"{where}: reason {outcome.reason!r} lacks {wanted!r}"
