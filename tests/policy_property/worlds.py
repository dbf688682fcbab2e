"""Random IAM worlds for the differential and invariant tests.

A world is drawn by Hypothesis (so it shrinks): accounts, subjects (users, service IDs, trusted
profiles), access groups with memberships, a catalog whose role -> action grants are themselves
random, custom roles and up to 60 policies of both types. Requests are drawn from a seeded
`random.Random` so that a world can carry a hundred of them cheaply; half are aimed at a
random policy (so that permits are common), half are anything at all.

The vocabularies are small on purpose: collisions between values, patterns and wildcards are
where matchers go wrong. Values contain the literal characters `*`, `?` and `$`.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from strongroom.policy import Catalog, Condition, Policy, Request, Rule, Subject
from strongroom.policy.catalog import catalog_from
from strongroom.policy.compile import CustomRole

# Strategies are built once and reused: building and validating a new strategy object for
# every draw made generating a world cost more than everything else in the run.


@functools.cache
def ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@functools.cache
def _pick(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def pick(options: Sequence[Any]) -> st.SearchStrategy[Any]:
    return _pick(tuple(options))


BOOL = st.booleans()


@functools.cache
def some(
    element: st.SearchStrategy[Any], max_size: int, unique: bool = True
) -> st.SearchStrategy[list[Any]]:
    """1 to `max_size` of `element`."""
    return st.lists(element, min_size=1, max_size=max_size, unique=unique)


# -- the catalog ---------------------------------------------------------------------------------

SERVICE_ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kms": (
        "service",
        ("kms.key.list", "kms.key.read", "kms.key.create", "kms.key.delete", "kms.secrets.wrap"),
    ),
    "cloud-object-storage": (
        "service",
        (
            "cloud-object-storage.bucket.get",
            "cloud-object-storage.object.read",
            "cloud-object-storage.object.write",
        ),
    ),
    "is": ("service", ("is.vpc.read", "is.instance.create")),
    "iam-identity": (
        "platform_service",
        ("iam-identity.serviceid.get", "iam-identity.serviceid.create", "iam-identity.apikey.get"),
    ),
    "iam-groups": ("platform_service", ("iam-groups.groups.read", "iam-groups.groups.create")),
}
UNKNOWN_SERVICE_ACTIONS = ("toolchain.pipeline.run", "toolchain.pipeline.read")

SYSTEM_ROLES = tuple(
    f"crn:v1:bluemix:public:iam::::role:{n}"
    for n in ("Viewer", "Operator", "Editor", "Administrator")
)
SERVICE_ROLES = tuple(
    f"crn:v1:bluemix:public:iam::::serviceRole:{n}" for n in ("Reader", "Writer", "Manager")
)
SPECIFIC_ROLES = {
    "kms": ("crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus",),
    "iam-identity": ("crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator",),
}


def roles_of(service: str) -> tuple[str, ...]:
    kind = SERVICE_ACTIONS[service][0]
    base = SYSTEM_ROLES + (SERVICE_ROLES if kind == "service" else ())
    return base + SPECIFIC_ROLES.get(service, ())


ALL_CATALOG_ROLES = tuple(dict.fromkeys(r for s in SERVICE_ACTIONS for r in roles_of(s)))


def build_catalog(masks: dict[tuple[str, str], int]) -> Catalog:
    """A catalog where role R on service S grants the actions picked by the bit mask."""
    documents = []
    for service, (kind, actions) in SERVICE_ACTIONS.items():
        roles = []
        for crn in roles_of(service):
            mask = masks.get((service, crn), 0)
            granted = [a for i, a in enumerate(actions) if mask >> i & 1]
            roles.append({"id": crn.rsplit(":", 1)[-1], "crn": crn, "actions": granted})
        documents.append(
            (
                f"{service}.yaml",
                {
                    "service": service,
                    "kind": kind,
                    "actions": [{"id": a} for a in actions],
                    "roles": roles,
                },
            )
        )
    return catalog_from(documents)


# -- vocabularies --------------------------------------------------------------------------------

ACCOUNTS = tuple(f"acct{i}" for i in range(5))
FOREIGN_ACCOUNT = "acct-elsewhere"  # named by no policy
INSTANCES = ("inst-1", "inst-2", "inst-11")
RESOURCE_TYPES = ("key", "bucket", "vpc", "serviceid")
RESOURCES = ("key-a", "key-b", "key-ab", "a*b", "ab", "axb", "k?y", "key", "c$d", "cd")
RESOURCE_GROUPS = ("rg-1", "rg-2", "rg-12")
REGIONS = ("us-south", "eu-de")
TAG_NAMES = ("env", "team")
TAG_VALUES = ("prod", "dev", "p*d")
SOURCE_SERVICES = ("cloud-object-storage", "is", "kms", "secrets-manager")
VALUES: dict[str, tuple[str, ...]] = {
    "serviceName": (*SERVICE_ACTIONS, "toolchain"),
    "serviceInstance": INSTANCES,
    "resourceType": RESOURCE_TYPES,
    "resource": RESOURCES,
    "resourceGroupId": RESOURCE_GROUPS,
    "region": REGIONS,
}
RESOURCE_KEYS = tuple(VALUES)
CURATED_PATTERNS = (
    "*",
    "?",
    "*a*",
    "key-*",
    "key-?",
    "k?y",
    "k{{?}}y",
    "a*b",
    "a{{*}}b",
    "c$d",
    "c{{$}}d",
    "inst-*",
    "inst-?",
    "rg-?",
    "*-1",
    "kms",
    "k*s",
    "{{*}}",
    "*{{*}}*",
    "us-*",
)
OFFSETS = ("+00:00", "+05:30", "-08:00", "+09:00")
BASE = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
TIME_KEY = "{{environment.attributes.current_time}}"
DATE_TIME_KEY = "{{environment.attributes.current_date_time}}"
DAY_KEY = "{{environment.attributes.day_of_week}}"
DATE_KEY = "{{environment.attributes.current_date}}"
COMPARISONS = ("LessThan", "LessThanOrEquals", "GreaterThan", "GreaterThanOrEquals")


def mutate(value: str, seed: int) -> str:
    """A stringMatch pattern made from a value: some characters become `?`, some runs `*`,
    literal `*`/`?`/`$` are sometimes escaped."""
    rnd = random.Random(seed)
    out = []
    for char in value:
        roll = rnd.random()
        if char in "*?$" and roll < 0.5:
            out.append("{{" + char + "}}")
        elif roll < 0.15:
            out.append("?")
        elif roll < 0.25:
            out.append("*")
        else:
            out.append(char)
    if rnd.random() < 0.2:
        out.insert(0, "*")
    if rnd.random() < 0.2:
        out.append("*")
    return "".join(out)


@functools.cache
def _patterns_for(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        pick(CURATED_PATTERNS),
        st.builds(mutate, pick(values), ints(0, 2**16)),
    )


def patterns_for(values: Sequence[str]) -> st.SearchStrategy[str]:
    return _patterns_for(tuple(values))


# -- the world -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    accounts: tuple[str, ...]
    subjects: tuple[str, ...]  # iam_ids
    groups: tuple[tuple[str, str], ...]  # (group id, account)
    members: dict[str, frozenset[str]]  # iam_id -> groups
    catalog: Catalog
    custom_roles: tuple[CustomRole, ...]
    policies: tuple[Policy, ...]
    seed: int = 0  # of the requests drawn for this world


def _subjects() -> st.SearchStrategy[tuple[str, ...]]:
    kinds = pick(("IBMid-user", "iam-ServiceId-", "iam-Profile-"))
    return st.lists(kinds, min_size=1, max_size=30).map(
        lambda ks: tuple(f"{k}{i}" for i, k in enumerate(ks))
    )


@functools.cache
def conditions_on(key: str, exists_ok: bool = True) -> st.SearchStrategy[Condition]:
    return _conditions_on(key, exists_ok)


@st.composite
def _conditions_on(draw: st.DrawFn, key: str, exists_ok: bool) -> Condition:
    values = VALUES[key]
    ops = ["stringEquals", "stringMatch", "stringEqualsAnyOf", "stringMatchAnyOf"]
    if exists_ok:
        ops.append("stringExists")
    op = draw(pick(ops))
    if op == "stringEquals":
        return Condition(key, op, draw(pick(values)))
    if op == "stringMatch":
        return Condition(key, op, draw(patterns_for(values)))
    if op == "stringEqualsAnyOf":
        chosen = draw(some(pick(values), 3))
        return Condition(key, op, tuple(chosen))
    if op == "stringMatchAnyOf":
        chosen = draw(some(patterns_for(values), 3))
        return Condition(key, op, tuple(chosen))
    return Condition(key, op, draw(BOOL))


def _clock(draw: st.DrawFn) -> str:
    hour = draw(ints(0, 23))
    minute = draw(pick((0, 30, 59)))
    second = draw(pick((0, 0, 59)))
    return f"{hour:02d}:{minute:02d}:{second:02d}{draw(pick(OFFSETS))}"


DAYS = some(st.builds(lambda d, o: f"{d}{o}", ints(1, 7), pick(OFFSETS)), 3, unique=False)


@st.composite
def rule_conditions(draw: st.DrawFn) -> Condition:
    kind = draw(pick(("time", "day", "date", "dateTime", "resource")))
    compare = draw(pick(COMPARISONS))
    if kind == "time":
        return Condition(TIME_KEY, f"time{compare}", _clock(draw))
    if kind == "day":
        days = draw(DAYS)
        if len(days) == 1 and draw(BOOL):
            return Condition(DAY_KEY, "dayOfWeekEquals", days[0])
        return Condition(DAY_KEY, "dayOfWeekAnyOf", tuple(days))
    if kind == "date":
        day = (BASE + timedelta(days=draw(ints(-3, 12)))).date().isoformat()
        offset = draw(pick(("", *OFFSETS)))
        key = draw(pick((DATE_KEY, DATE_TIME_KEY)))
        return Condition(key, f"date{compare}", day + offset)
    if kind == "dateTime":
        day = (BASE + timedelta(days=draw(ints(-3, 12)))).date().isoformat()
        return Condition(DATE_TIME_KEY, f"dateTime{compare}", f"{day}T{_clock(draw)}")
    key = draw(pick(RESOURCE_KEYS))
    inner = draw(conditions_on(key))
    return Condition(f"{{{{resource.attributes.{key}}}}}", inner.operator, inner.value)


RULE_CONDITION = rule_conditions()


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    parts: list[Condition | Rule] = draw(some(RULE_CONDITION, 3, unique=False))
    if len(parts) == 1 and draw(BOOL):
        return Rule("single", (parts[0],))
    if draw(ints(0, 3)) == 0:
        nested = draw(some(RULE_CONDITION, 2, unique=False))
        parts.append(Rule(draw(pick(("and", "or"))), tuple(nested)))
    return Rule(draw(pick(("and", "or"))), tuple(parts))


RULES = rules()
TAG_SPECS = st.lists(
    st.tuples(pick(TAG_NAMES), pick(("stringEquals", "stringMatch"))),
    min_size=1,
    max_size=2,
    unique_by=lambda t: t[0],
)


@st.composite
def policies(
    draw: st.DrawFn,
    index: int,
    accounts: Sequence[str],
    subjects: Sequence[str],
    groups: Sequence[tuple[str, str]],
    custom_roles: Sequence[CustomRole],
) -> Policy:
    account = draw(pick(accounts))
    authorization = draw(ints(0, 4)) == 0
    subject: tuple[Condition, ...]
    if authorization:
        conds = [Condition("serviceName", "stringEquals", draw(pick(SOURCE_SERVICES)))]
        if draw(BOOL):
            conds.append(Condition("serviceInstance", "stringEquals", draw(pick(INSTANCES))))
        if draw(BOOL):
            source_account = draw(pick((*accounts, FOREIGN_ACCOUNT)))
            conds.append(Condition("accountId", "stringEquals", source_account))
        if draw(ints(0, 3)) == 0:
            conds.append(Condition("resourceGroupId", "stringExists", draw(BOOL)))
        subject = tuple(conds)
    elif groups and draw(ints(0, 4)) < 2:
        own = [g for g, a in groups if a == account]
        pool = own if own and draw(ints(0, 5)) > 0 else [g for g, _ in groups]
        subject = (Condition("access_group_id", "stringEquals", draw(pick(pool))),)
    else:
        subject = (Condition("iam_id", "stringEquals", draw(pick(subjects))),)

    resource = [Condition("accountId", "stringEquals", account)]
    if draw(ints(0, 6)) == 0:
        resource.append(
            Condition(
                "serviceType",
                "stringEquals",
                draw(pick(("service", "platform_service"))),
            )
        )
    for key in RESOURCE_KEYS:
        if draw(ints(0, 9)) < (4 if key == "serviceName" else 2):
            resource.append(draw(conditions_on(key)))

    tags: tuple[Condition, ...] = ()
    if draw(ints(0, 6)) == 0:
        tags = tuple(
            Condition(
                name,
                op,
                draw(patterns_for(TAG_VALUES)) if op == "stringMatch" else draw(pick(TAG_VALUES)),
            )
            for name, op in draw(TAG_SPECS)
        )

    own_custom = [r.crn for r in custom_roles if r.account_id == account]
    role_pool = list(ALL_CATALOG_ROLES) + own_custom * 3
    first = role_pool[draw(ints(0, len(role_pool) - 1))]
    second = role_pool[draw(ints(0, len(role_pool) - 1))] if draw(BOOL) else first
    roles = tuple(dict.fromkeys((first, second)))
    rule = draw(RULES) if draw(ints(0, 3)) == 0 else None
    active = draw(ints(0, 9)) > 0
    return Policy(
        id=f"p{index}",
        account_id=account,
        type="authorization" if authorization else "access",
        subject=subject,
        resource=tuple(resource),
        roles=roles,
        tags=tags,
        rule=rule,
        active=active,
    )


@st.composite
def worlds(draw: st.DrawFn, max_policies: int = 60, min_policies: int = 0) -> World:
    accounts = ACCOUNTS[: draw(ints(1, len(ACCOUNTS)))]
    subjects = draw(_subjects())
    groups = tuple((f"AccessGroup-{i}", draw(pick(accounts))) for i in range(draw(ints(0, 10))))
    membership_masks = draw(
        st.lists(ints(0, 2 ** len(groups) - 1), min_size=len(subjects), max_size=len(subjects))
    )
    members = {
        s: frozenset(g for i, (g, _) in enumerate(groups) if mask >> i & 1)
        for s, mask in zip(subjects, membership_masks, strict=True)
    }
    masks = {}
    for service, (_, actions) in SERVICE_ACTIONS.items():
        for crn in roles_of(service):
            masks[(service, crn)] = draw(ints(0, 2 ** len(actions) - 1))
    catalog = build_catalog(masks)
    custom_roles = []
    for i in range(draw(ints(0, 4))):
        service = draw(pick((*SERVICE_ACTIONS, "toolchain")))
        actions = (
            SERVICE_ACTIONS[service][1] if service in SERVICE_ACTIONS else UNKNOWN_SERVICE_ACTIONS
        )
        chosen = draw(st.lists(pick(actions), min_size=1, unique=True))
        account = draw(pick(accounts))
        custom_roles.append(
            CustomRole(
                crn=f"crn:v1:bluemix:public:iam-access-management::a/{account}::customRole:Custom{i}",
                account_id=account,
                service=service,
                actions=frozenset(chosen),
            )
        )
    # Hypothesis favours small numbers; half the worlds are drawn from the upper half.
    count = draw(
        st.one_of(
            ints(min_policies, max_policies),
            ints(max(min_policies, max_policies // 2), max_policies),
        )
    )
    drawn = tuple(draw(policies(i, accounts, subjects, groups, custom_roles)) for i in range(count))
    return World(
        accounts=accounts,
        subjects=subjects,
        groups=groups,
        members=members,
        catalog=catalog,
        custom_roles=tuple(custom_roles),
        policies=drawn,
        seed=draw(ints(0, 2**32 - 1)),
    )


# -- requests ------------------------------------------------------------------------------------

ALL_ACTIONS = tuple(a for _, actions in SERVICE_ACTIONS.values() for a in actions) + (
    UNKNOWN_SERVICE_ACTIONS
)


def _value_for(condition: Condition, rnd: random.Random) -> str | None:
    """A value likely (not certain) to satisfy `condition`; None = leave the attribute out."""
    op, value = condition.operator, condition.value
    pool = VALUES.get(condition.key, TAG_VALUES)
    if op == "stringEquals":
        return str(value)
    if op == "stringEqualsAnyOf":
        assert isinstance(value, tuple)
        return rnd.choice(value)
    if op == "stringExists":
        return rnd.choice(pool) if value else None
    return rnd.choice(pool)  # a pattern: any value of the vocabulary, it may or may not match


def _random_time(rnd: random.Random) -> datetime:
    moment = BASE + timedelta(minutes=rnd.randrange(-3 * 24 * 60, 13 * 24 * 60))
    if rnd.random() < 0.3:
        moment += timedelta(seconds=rnd.choice((0, 59, 1)))
    sign, rest = rnd.choice(OFFSETS)[0], rnd.choice(OFFSETS)[1:]
    hours, minutes = (int(x) for x in rest.split(":"))
    offset = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    return moment.astimezone(timezone(offset))


def _human_subject(world: World, rnd: random.Random, iam_id: str | None = None) -> Subject:
    iam_id = iam_id or rnd.choice(world.subjects)
    groups = set(world.members.get(iam_id, frozenset()))
    if world.groups and rnd.random() < 0.1:
        groups.add(rnd.choice(world.groups)[0])
    if groups and rnd.random() < 0.1:
        groups.discard(rnd.choice(sorted(groups)))
    # now and then a caller that is both an identity and a calling service
    attributes = _service_subject(world, rnd).attributes if rnd.random() < 0.05 else {}
    return Subject(iam_id=iam_id, access_groups=frozenset(groups), attributes=attributes)


def _service_subject(world: World, rnd: random.Random) -> Subject:
    attrs = {"serviceName": rnd.choice(SOURCE_SERVICES)}
    if rnd.random() < 0.7:
        attrs["serviceInstance"] = rnd.choice(INSTANCES)
    if rnd.random() < 0.7:
        attrs["accountId"] = rnd.choice((*world.accounts, FOREIGN_ACCOUNT))
    if rnd.random() < 0.5:
        attrs["resourceGroupId"] = rnd.choice(RESOURCE_GROUPS)
    return Subject(attributes=attrs)


def _random_resource(world: World, rnd: random.Random, service: str | None) -> dict[str, str]:
    roll = rnd.random()
    account = FOREIGN_ACCOUNT if roll < 0.05 else rnd.choice(world.accounts)
    resource = {"accountId": account}
    if service is not None:
        resource["serviceName"] = service
    for key in RESOURCE_KEYS:
        if key != "serviceName" and rnd.random() < 0.5:
            resource[key] = rnd.choice(VALUES[key])
    return resource


def _kind_attribute(resource: dict[str, str], rnd: random.Random) -> None:
    """Sometimes the resource declares its own serviceType: for a service the catalog knows, half
    the time its catalog kind and half the time either kind (a claim the engine must not
    believe over the catalog: test_regressions.py); for unknown services, either kind."""
    name = resource.get("serviceName")
    known = SERVICE_ACTIONS.get(name or "")
    if rnd.random() < 0.25:
        if known is not None and rnd.random() < 0.5:
            resource["serviceType"] = known[0]
        else:
            resource["serviceType"] = rnd.choice(("service", "platform_service"))


def random_request(world: World, rnd: random.Random) -> Request:
    live = [p for p in world.policies if rnd.random() < 0.95 or not p.active]
    if live and rnd.random() < 0.5:
        return _aimed_request(world, rnd, rnd.choice(live))
    subject = _service_subject(world, rnd) if rnd.random() < 0.2 else _human_subject(world, rnd)
    action = rnd.choice(ALL_ACTIONS)
    prefix = action.split(".")[0]
    service_roll = rnd.random()
    service = (
        prefix
        if service_roll < 0.6
        else None
        if service_roll < 0.75
        else rnd.choice(VALUES["serviceName"])
    )
    resource = _random_resource(world, rnd, service)
    _kind_attribute(resource, rnd)
    tags = {n: rnd.choice(TAG_VALUES) for n in TAG_NAMES if rnd.random() < 0.4}
    return Request(subject, action, resource, _random_time(rnd), tags)


def _aimed_request(world: World, rnd: random.Random, policy: Policy) -> Request:
    if policy.type == "authorization":
        attrs: dict[str, str] = {}
        for c in policy.subject:
            v = (
                _value_for(c, rnd)
                if c.operator != "stringExists"
                else (rnd.choice(RESOURCE_GROUPS) if c.value else None)
            )
            if v is not None:
                attrs[c.key] = v
        subject = Subject(attributes=attrs)
    else:
        (only,) = policy.subject
        if only.key == "iam_id":
            subject = _human_subject(world, rnd, str(only.value))
        else:
            holders = [s for s, gs in world.members.items() if only.value in gs]
            if holders:
                subject = _human_subject(world, rnd, rnd.choice(holders))
            else:
                base = _human_subject(world, rnd)
                subject = replace(base, access_groups=base.access_groups | {str(only.value)})
    resource: dict[str, str] = {"accountId": policy.account_id}
    for key in RESOURCE_KEYS:
        if rnd.random() < 0.4:
            resource[key] = rnd.choice(VALUES[key])
    for c in policy.resource:
        if c.key in ("accountId", "serviceType"):
            continue
        v = _value_for(c, rnd)
        if v is None:
            resource.pop(c.key, None)
        else:
            resource[c.key] = v
    if "serviceName" not in resource and rnd.random() < 0.5:
        want = next((str(c.value) for c in policy.resource if c.key == "serviceType"), None)
        names = [s for s, (k, _) in SERVICE_ACTIONS.items() if want in (None, k)]
        resource["serviceName"] = rnd.choice(names)
    _kind_attribute(resource, rnd)
    service = resource.get("serviceName")
    if service in SERVICE_ACTIONS:
        action = rnd.choice(SERVICE_ACTIONS[service][1])
    elif service == "toolchain":
        action = rnd.choice(UNKNOWN_SERVICE_ACTIONS)
    else:
        action = rnd.choice(ALL_ACTIONS)
    # Prefer an action one of the policy's roles grants there.
    for role in policy.roles:
        custom = next((r for r in world.custom_roles if r.crn == role), None)
        if custom is not None and custom.service == (service or custom.service):
            action = rnd.choice(sorted(custom.actions))
            break
        found = world.catalog.services.get(service or action.split(".")[0])
        granted = sorted(found.roles[role].actions) if found and role in found.roles else []
        if granted:
            action = rnd.choice(granted)
            break
    tags = {n: rnd.choice(TAG_VALUES) for n in TAG_NAMES if rnd.random() < 0.4}
    for t in policy.tags:
        tags[t.key] = _value_for(t, rnd) or rnd.choice(TAG_VALUES)
    return Request(subject, action, resource, _random_time(rnd), tags)


def requests_for(world: World, count: int) -> list[Request]:
    rnd = random.Random(world.seed)
    return [random_request(world, rnd) for _ in range(count)]
