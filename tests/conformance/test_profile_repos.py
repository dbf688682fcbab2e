"""Conformance: trusted profiles, their claim rules, links and identities, on every backend."""

from __future__ import annotations

from dataclasses import replace

from strongroom import ids
from strongroom.identity.claim_rules import ClaimCondition
from strongroom.identity.filters import PROFILE_ATTRIBUTES, parse
from strongroom.identity.profile_models import (
    ClaimRule,
    IdentityType,
    LinkTarget,
    Profile,
    ProfileIdentity,
    ProfileLink,
    RuleType,
)
from strongroom.store.ports import ListQuery
from tests.conformance.builders import account, at, versioned
from tests.conformance.conftest import Store


def profile(account_id: str, name: str, n: int = 0, description: str = "") -> Profile:
    pid = ids.new_profile_id()
    return Profile(
        id=pid,
        iam_id=ids.profile_iam_id(pid),
        account_id=account_id,
        name=name,
        description=description,
        email="ops@example.com",
        meta=versioned(created_at=at(n)),
        identities_tag=ids.new_entity_tag(1),
    )


def seeded(store: Store) -> tuple[str, str]:
    mine, theirs = account(), account()
    with store.uow(write=True) as uow:
        uow.accounts.add(mine)
        uow.accounts.add(theirs)
    return mine.id, theirs.id


def test_profiles_round_trip_and_names_are_unique_per_account(store: Store) -> None:
    mine, theirs = seeded(store)
    first = profile(mine, "Ünïcode builder", description="déjà vu")
    with store.uow(write=True) as uow:
        assert uow.profiles.add(first)
        assert not uow.profiles.add(profile(mine, "Ünïcode builder"))  # refused, tx still usable
        assert uow.profiles.add(profile(theirs, "Ünïcode builder"))  # another account may
    with store.uow() as uow:
        assert uow.profiles.get(first.id) == first
        assert uow.profiles.get_by_iam_id(first.iam_id) == first
        assert uow.profiles.get_by_name(mine, "Ünïcode builder") == first
        assert uow.profiles.count(mine) == 1


def test_updates_and_identity_tags_are_conditional(store: Store) -> None:
    mine, _ = seeded(store)
    p = profile(mine, "p")
    with store.uow(write=True) as uow:
        uow.profiles.add(p)
    renamed = replace(p, name="q", meta=replace(p.meta, entity_tag="2-x"))
    with store.uow(write=True) as uow:
        assert uow.profiles.update(renamed, expected_tag=p.meta.entity_tag)
        assert not uow.profiles.update(renamed, expected_tag=p.meta.entity_tag)
        assert uow.profiles.set_identities_tag(p.id, p.identities_tag, "2-i")
        assert not uow.profiles.set_identities_tag(p.id, p.identities_tag, "3-i")
    with store.uow() as uow:
        got = uow.profiles.get(p.id)
        assert got is not None and got.name == "q" and got.identities_tag == "2-i"
        assert uow.profiles.delete(p.id) and uow.profiles.get(p.id) is None


def test_listing_filters_sorts_and_pages(store: Store) -> None:
    mine, theirs = seeded(store)
    with store.uow(write=True) as uow:
        for n, name in enumerate(["Python-b", "python-A", "Go-c", "Python-d"]):
            uow.profiles.add(profile(mine, name, n))
        uow.profiles.add(profile(theirs, "Python-z"))
    expr = parse('name co "python"', PROFILE_ATTRIBUTES)
    with store.uow() as uow:
        page = uow.profiles.list(ListQuery(mine, filter=expr, sort="name", limit=2))
        rest = uow.profiles.list(ListQuery(mine, filter=expr, sort="name", offset=2, limit=2))
    assert [p.name for p in page.items] == ["Python-b", "Python-d"] and page.has_more
    assert [p.name for p in rest.items] == ["python-A"] and not rest.has_more


def test_rules_keep_conditions_exactly_and_update_conditionally(store: Store) -> None:
    mine, _ = seeded(store)
    p = profile(mine, "p")
    conditions = (
        ClaimCondition("blueGroups", "EQUALS", '"cloud-docs-dev"'),
        ClaimCondition("name", "IN", '["a", "b"]'),
    )
    rule = ClaimRule(
        "ClaimRule-1",
        p.id,
        RuleType.CR,
        "r",
        None,
        "IKS_SA",
        43200,
        conditions,
        at(1),
        at(1),
        "1-r",
    )
    saml = replace(rule, id="ClaimRule-2", type=RuleType.SAML, realm_name="https://r", cr_type=None)
    with store.uow(write=True) as uow:
        uow.profiles.add(p)
        uow.profile_rules.add(rule)
        uow.profile_rules.add(replace(saml, created_at=at(2)))
    with store.uow(write=True) as uow:
        assert uow.profile_rules.get(p.id, rule.id) == rule
        assert uow.profile_rules.get("Profile-other", rule.id) is None
        assert [r.id for r in uow.profile_rules.list_for(p.id)] == [rule.id, saml.id]
        assert uow.profile_rules.count_for(p.id) == 2
        assert uow.profile_rules.update(replace(rule, entity_tag="2-r"), expected_tag="1-r")
        assert not uow.profile_rules.update(replace(rule, entity_tag="3-r"), expected_tag="1-r")
        assert uow.profile_rules.delete(p.id, saml.id) and not uow.profile_rules.delete(
            p.id, saml.id
        )
        assert uow.profile_rules.delete_for(p.id) == 1


def test_links_and_identities(store: Store) -> None:
    mine, _ = seeded(store)
    p = profile(mine, "p")
    target = LinkTarget("crn:v1:staging:public:iks:us-south:a/1::cluster:c", "default", "sa")
    link = ProfileLink("ProfileLink-1", p.id, "l", "ROKS_SA", True, target, at(1), at(1), "1-l")
    bare = replace(link, id="ProfileLink-2", link=LinkTarget("crn:v1:x:y:z::::"), created_at=at(2))
    user = ProfileIdentity("IBMid-U", IdentityType.USER, "IBMid-U", ("b" * 32,), "the user")
    sid = ProfileIdentity("ServiceId-1", IdentityType.SERVICE_ID, "iam-ServiceId-1")
    with store.uow(write=True) as uow:
        uow.profiles.add(p)
        uow.profile_links.add(link)
        uow.profile_links.add(bare)
        uow.profile_identities.replace_all(p.id, [sid, user])
    with store.uow(write=True) as uow:
        assert uow.profile_links.get(p.id, link.id) == link
        assert uow.profile_links.list_for(p.id) == [link, bare]
        assert uow.profile_links.delete(p.id, link.id) and uow.profile_links.delete_for(p.id) == 1
        assert uow.profile_identities.list_for(p.id) == [sid, user]
        changed = replace(sid, description="now described")
        uow.profile_identities.put(p.id, changed)  # replaced in place, order kept
        crn = ProfileIdentity("crn:v1:a:b::::::", IdentityType.CRN, "crn-crn:v1:a:b::::::")
        uow.profile_identities.put(p.id, crn)
        assert uow.profile_identities.list_for(p.id) == [changed, user, crn]
        assert uow.profile_identities.delete(p.id, user.iam_id)
        assert not uow.profile_identities.delete(p.id, user.iam_id)
        assert uow.profile_identities.delete_for(p.id) == 2
