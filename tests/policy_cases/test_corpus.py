"""The decision corpus (reliability.md C4): YAML cases with expected decisions, from the seeds.

Each `*.yaml` file here holds policies in IBM's own JSON (v2, or v1 where an entry says `v1:`),
optional custom roles and cases. This runner converts the policies with
`strongroom.policy.documents`, compiles them against the shipped catalogs and checks `decide` on
every case; the same files are meant to run later through the HTTP API, which is why policies
stay in IBM's wire shape.

An expectation comes from a seed table or the spec, never from running the engine: when they
disagree, the engine (or its catalog) is wrong, not the case. A case may be added, never deleted.

File format (unknown keys are refused, so a typo cannot silently turn a check off):

    description: what the file covers and which seed table it encodes
    accounts: {A: <32 hex>, ...}                 # optional aliases for `account:`
    custom_roles: [{crn, account, service, actions: [...]}]
    policies: [{id, account, v2: {...} | v1: {...}, state: active|deleted}]
    group_rules: [{id, group, account, realm_name, expiration (hours), conditions: [...]}]
    refused_policies: [{id, account, v2 | v1, field}]   # must raise PolicyError naming `field`
    cases: [{name, subject: {iam_id, access_groups, attributes,
                             logins: [{account, realm_name, claims, at}]},
             action, resource: {...},
             tags: {...}, time: ISO-8601 with offset, expect: permit|deny,
             permitted_by: [policy ids], reason_contains: "...",
             known_gap: "why the engine disagrees with the seed (a strict xfail)"}]
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from strongroom.access.group_models import FederatedLogin, GroupRule
from strongroom.access.memberships import MembershipSnapshot, dynamic_memberships
from strongroom.policy import (
    Catalog,
    PolicyError,
    PolicySet,
    Request,
    Subject,
    compile_policies,
    decide,
    permits,
)
from strongroom.policy import load_catalog as load_shipped_catalog
from strongroom.policy.compile import CustomRole
from strongroom.policy.documents import policy_from_v1, policy_from_v2
from strongroom.policy.model import Policy

HERE = Path(__file__).parent
FILES = sorted(HERE.glob("*.yaml"))
DEFAULT_TIME = "2026-01-05T10:00:00+00:00"  # a Monday, mid-morning UTC
MINIMUM_CASES = 150  # reliability.md C4
RULES_WRITTEN = datetime(2026, 1, 1, tzinfo=UTC)

FILE_KEYS = {
    "description",
    "accounts",
    "custom_roles",
    "policies",
    "refused_policies",
    "group_rules",
    "cases",
}
RULE_KEYS = {"id", "group", "account", "realm_name", "expiration", "conditions"}
LOGIN_KEYS = {"account", "realm_name", "claims", "at"}
POLICY_KEYS = {"id", "account", "v1", "v2", "state", "note"}
REFUSED_KEYS = {"id", "account", "v1", "v2", "field", "note"}
ROLE_KEYS = {"crn", "account", "service", "actions"}
CASE_KEYS = {
    "name",
    "subject",
    "action",
    "resource",
    "tags",
    "time",
    "expect",
    "permitted_by",
    "reason_contains",
    "note",
    "known_gap",
}
SUBJECT_KEYS = {"iam_id", "access_groups", "attributes", "logins"}


def _refuse_unknown(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: not a mapping"
    _refuse_unknown(data, FILE_KEYS, path.name)
    assert data.get("description"), f"{path.name}: says nothing about what it covers"
    return data


@functools.cache
def _catalog() -> Catalog:
    return load_shipped_catalog()


def _account(data: Mapping[str, Any], name: str) -> str:
    return str(data.get("accounts", {}).get(name, name))


def _policy(data: Mapping[str, Any], entry: Mapping[str, Any], where: str) -> Policy:
    _refuse_unknown(entry, POLICY_KEYS, where)
    assert ("v1" in entry) != ("v2" in entry), f"{where}: give exactly one of `v1:` or `v2:`"
    convert = policy_from_v1 if "v1" in entry else policy_from_v2
    policy = convert(
        entry["v1" if "v1" in entry else "v2"],
        policy_id=str(entry["id"]),
        account_id=_account(data, str(entry["account"])),
    )
    state = entry.get("state", "active")
    assert state in ("active", "deleted"), f"{where}: state is active or deleted"
    return dataclasses.replace(policy, active=state == "active")


def _custom_role(data: Mapping[str, Any], entry: Mapping[str, Any], where: str) -> CustomRole:
    _refuse_unknown(entry, ROLE_KEYS, where)
    return CustomRole(
        crn=str(entry["crn"]),
        account_id=_account(data, str(entry["account"])),
        service=str(entry["service"]),
        actions=frozenset(entry["actions"]),
    )


def _custom_roles(path: Path) -> list[CustomRole]:
    data = _load(path)
    return [
        _custom_role(data, entry, f"{path.name}: custom role {entry.get('crn')}")
        for entry in data.get("custom_roles", [])
    ]


@functools.cache
def _policy_set(path: Path) -> PolicySet:
    data = _load(path)
    policies = [
        _policy(data, entry, f"{path.name}: policy {entry.get('id')}")
        for entry in data.get("policies", [])
    ]
    ids = [p.id for p in policies]
    assert len(ids) == len(set(ids)), f"{path.name}: policy ids repeat"
    return compile_policies(policies, _catalog(), _custom_roles(path))


def group_rules(path: Path) -> list[GroupRule]:
    """The file's dynamic access-group rules, as the Access Groups API stores them."""
    data = _load(path)
    rules = []
    for entry in data.get("group_rules", []):
        _refuse_unknown(entry, RULE_KEYS, f"{path.name}: group rule {entry.get('id')}")
        rules.append(
            GroupRule(
                id=str(entry["id"]),
                group_id=str(entry["group"]),
                account_id=_account(data, str(entry["account"])),
                name=str(entry["id"]),
                expiration=int(entry["expiration"]),
                realm_name=str(entry["realm_name"]),
                conditions=tuple(entry["conditions"]),
                created_at=RULES_WRITTEN,
                created_by_id="IBMid-corpus",
                last_modified_at=RULES_WRITTEN,
                last_modified_by_id="IBMid-corpus",
                entity_tag="1-corpus",
            )
        )
    return rules


def logins(data: Mapping[str, Any], case: Mapping[str, Any], where: str) -> list[FederatedLogin]:
    """The identity-provider logins a case's subject made before it asks."""
    subject = case.get("subject", {})
    found = []
    for entry in subject.get("logins", []):
        _refuse_unknown(entry, LOGIN_KEYS, f"{where}: login")
        found.append(
            FederatedLogin(
                account_id=_account(data, str(entry["account"])),
                iam_id=str(subject["iam_id"]),
                realm_name=str(entry["realm_name"]),
                claims=dict(entry["claims"]),
                logged_in_at=datetime.fromisoformat(str(entry["at"])),
            )
        )
    return found


def _request(case: Mapping[str, Any], where: str, path: Path | None = None) -> Request:
    subject = case.get("subject", {})
    _refuse_unknown(subject, SUBJECT_KEYS, f"{where}: subject")
    moment = datetime.fromisoformat(str(case.get("time", DEFAULT_TIME)))
    assert moment.tzinfo is not None, f"{where}: time needs a UTC offset"
    groups = frozenset(subject.get("access_groups", []))
    if subject.get("logins"):
        # Rule-based memberships, resolved as the server resolves them (access.memberships):
        # the engine is told the groups, whatever made the subject a member.
        assert path is not None, f"{where}: logins need the file's group rules"
        # One snapshot per account, as the server keeps: the resource's account's rules and
        # the logins to that account.
        account = str(case["resource"].get("accountId", ""))
        made = [x for x in logins(_load(path), case, where) if x.account_id == account]
        rules = [r for r in group_rules(path) if r.account_id == account]
        dynamic = dynamic_memberships(rules, made)
        snapshot = MembershipSnapshot(dynamic=dynamic, public_access=False)
        groups |= snapshot.groups_of(str(subject["iam_id"]), moment)
    return Request(
        subject=Subject(
            iam_id=str(subject.get("iam_id", "")),
            access_groups=groups,
            attributes={str(k): str(v) for k, v in subject.get("attributes", {}).items()},
        ),
        action=str(case["action"]),
        resource={str(k): str(v) for k, v in case["resource"].items()},
        time=moment,
        tags={str(k): str(v) for k, v in case.get("tags", {}).items()},
    )


def _cases() -> Iterator[Any]:
    for path in FILES:
        for case in _load(path).get("cases", []):
            # `known_gap` records a disagreement found between the engine or its catalogs and the
            # seed, without touching the expectation: the case is a strict xfail until fixed.
            gap = case.get("known_gap")
            marks = [pytest.mark.xfail(reason=str(gap), strict=True)] if gap else []
            yield pytest.param(path, case, id=f"{path.stem}::{case.get('name')}", marks=marks)


@pytest.mark.parametrize(("path", "case"), list(_cases()))
def test_case(path: Path, case: Mapping[str, Any]) -> None:
    where = f"{path.name}: {case.get('name')}"
    _refuse_unknown(case, CASE_KEYS, where)
    assert case.get("expect") in ("permit", "deny"), f"{where}: expect is permit or deny"
    # An action no catalog knows would be denied for that reason alone, and a `deny` case would
    # pass without testing anything: every case names a catalogued action.
    assert _catalog().knows_action(case["action"]), (
        f"{where}: no catalog defines the action `{case['action']}`"
    )
    request, policy_set = _request(case, where, path), _policy_set(path)
    decision = decide(request, policy_set)
    expected = case["expect"] == "permit"
    assert permits(request, policy_set) == decision.permitted, f"{where}: permits disagrees"
    assert decision.permitted == expected, (
        f"{where}: expected {case['expect']}, the engine said"
        f" {'permit' if decision.permitted else 'deny'} ({decision.reason})"
    )
    if "permitted_by" in case:
        assert sorted(decision.policies) == sorted(case["permitted_by"]), (
            f"{where}: permitted by {list(decision.policies)}, expected {case['permitted_by']}"
        )
    if "reason_contains" in case:
        assert case["reason_contains"] in decision.reason, (
            f"{where}: reason {decision.reason!r} lacks {case['reason_contains']!r}"
        )


def _refused() -> Iterator[Any]:
    for path in FILES:
        for entry in _load(path).get("refused_policies", []):
            yield pytest.param(path, entry, id=f"{path.stem}::{entry.get('id')}")


@pytest.mark.parametrize(("path", "entry"), list(_refused()))
def test_refused_policy(path: Path, entry: Mapping[str, Any]) -> None:
    """A policy the spec forbids is refused when converted or compiled, never silently kept."""
    where = f"{path.name}: refused policy {entry.get('id')}"
    _refuse_unknown(entry, REFUSED_KEYS, where)
    with pytest.raises(PolicyError) as refused:
        policy = _policy(_load(path), {k: v for k, v in entry.items() if k != "field"}, where)
        compile_policies([policy], _catalog(), _custom_roles(path))
    if "field" in entry:
        assert refused.value.field == entry["field"], f"{where}: {refused.value}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_is_well_formed(path: Path) -> None:
    data = _load(path)
    names = [case.get("name") for case in data.get("cases", [])]
    assert all(names), f"{path.name}: every case needs a name"
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert not repeated, f"{path.name}: case names repeat: {repeated}"
    ids = {entry["id"] for entry in data.get("policies", [])}
    for case in data.get("cases", []):
        unknown = set(case.get("permitted_by", [])) - ids
        assert not unknown, f"{path.name}: {case['name']}: permitted_by names {sorted(unknown)}"
        if case.get("expect") == "deny":
            assert not case.get("permitted_by"), f"{path.name}: {case['name']}: a deny permits"
    _policy_set(path)  # every policy converts and compiles


def test_the_corpus_is_large_enough() -> None:
    total = sum(len(_load(path).get("cases", [])) for path in FILES)
    assert total >= MINIMUM_CASES, f"the corpus holds {total} cases, C4 asks for {MINIMUM_CASES}"
