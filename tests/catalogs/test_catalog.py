"""The shipped role and action catalogs: they load, they describe every service strongroom knows,
their role CRNs are the ones IBM's SDK relies on (spec ibm-platform-api.md §1 item 11, §6.3), and
the `IAM` service group is exactly IBM's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from strongroom.policy import Catalog, load_catalog

from .tables import catalog_file_texts, raw_catalog_documents

PLATFORM_SERVICES = {
    "iam-identity", "iam-groups", "iam-access-management", "user-management",
    "resource-controller", "enterprise", "billing",
}  # fmt: skip
SERVICES = {"kms", "hs-crypto", "cloud-object-storage", "containers-kubernetes"}
IAM_GROUP = {"iam-identity", "iam-access-management", "iam-groups", "user-management"}

# Spec §6.3: the system and generic service roles, spelled exactly.
GENERIC = {
    "Viewer": "crn:v1:bluemix:public:iam::::role:Viewer",
    "Operator": "crn:v1:bluemix:public:iam::::role:Operator",
    "Editor": "crn:v1:bluemix:public:iam::::role:Editor",
    "Administrator": "crn:v1:bluemix:public:iam::::role:Administrator",
    "Reader": "crn:v1:bluemix:public:iam::::serviceRole:Reader",
    "Writer": "crn:v1:bluemix:public:iam::::serviceRole:Writer",
    "Manager": "crn:v1:bluemix:public:iam::::serviceRole:Manager",
}
SERVICE_ID_CREATOR = "crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"
OPERATION = re.compile(r"^(GET|HEAD|POST|PUT|PATCH|DELETE) /\S*$")
DOCUMENTS = raw_catalog_documents()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_load_catalog_describes_every_service(catalog: Catalog) -> None:
    assert set(catalog.services) == PLATFORM_SERVICES | SERVICES


def test_each_service_has_its_kind(catalog: Catalog) -> None:
    assert {s.name for s in catalog.services_of_kind("platform_service")} == PLATFORM_SERVICES
    assert {s.name for s in catalog.services_of_kind("service")} == SERVICES


def test_the_iam_service_group_is_exactly_ibms(catalog: Catalog) -> None:
    assert {s.name for s in catalog.services.values() if "IAM" in s.groups} == IAM_GROUP
    assert {g for s in catalog.services.values() for g in s.groups} == {"IAM"}


@pytest.mark.parametrize("name, data", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_role_crns_and_ids_are_unique_within_a_file(name: str, data: dict[str, Any]) -> None:
    crns = [r["crn"] for r in data["roles"]]
    ids = [r["id"] for r in data["roles"]]
    assert len(crns) == len(set(crns)), f"{name}: a role CRN is listed twice"
    assert len(ids) == len(set(ids)), f"{name}: a role id is listed twice"
    names = [r.get("display_name", r["id"]) for r in data["roles"]]
    assert len(names) == len(set(names)), f"{name}: two roles share a display name"


@pytest.mark.parametrize("name, data", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_role_crns_are_the_generic_ones_or_the_services_own(
    name: str, data: dict[str, Any]
) -> None:
    service = data["service"]
    for role in data["roles"]:
        if role["id"] in GENERIC:
            assert role["crn"] == GENERIC[role["id"]], f"{name}: {role['id']} is {role['crn']}"
        else:
            assert role["crn"] == f"crn:v1:bluemix:public:{service}::::serviceRole:{role['id']}", (
                f"{name}: {role['id']} has CRN {role['crn']}"
            )


def test_every_service_has_the_four_platform_roles(catalog: Catalog) -> None:
    platform = {GENERIC[n] for n in ("Viewer", "Operator", "Editor", "Administrator")}
    for service in catalog.services.values():
        assert platform <= set(service.roles), service.name


def test_service_id_creator_is_a_role_of_the_iam_group(catalog: Catalog) -> None:
    identity = catalog.services["iam-identity"]
    assert identity.roles[SERVICE_ID_CREATOR].actions == {"iam-identity.serviceid.create"}
    assert "IAM" in identity.groups


def test_custom_roles_on_iam_groups_can_use_groups_read(catalog: Catalog) -> None:
    assert catalog.knows_action("iam-groups.groups.read")
    assert catalog.services["iam-groups"].kind == "platform_service"


@pytest.mark.parametrize("name, data", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_actions_are_described_and_name_well_formed_operations(
    name: str, data: dict[str, Any]
) -> None:
    for action in data["actions"]:
        assert action.get("description", "").strip(), f"{name}: {action['id']} has no description"
        for operation in action.get("operations", []):
            assert OPERATION.match(operation), f"{name}: {action['id']}: `{operation}`"


def test_every_action_is_granted_by_some_role(catalog: Catalog) -> None:
    for service in catalog.services.values():
        granted = set().union(*(r.actions for r in service.roles.values()))
        assert set(service.actions) - granted == set(), service.name


def test_every_file_is_named_for_its_service_and_opens_by_citing_its_sources() -> None:
    for name, text in catalog_file_texts():
        header = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            header.append(line)
        assert header, f"{name} does not open with a comment"
        assert re.search(r"seed \d{3}|spec|§", " ".join(header)), f"{name}: header cites nothing"
    for name, data in DOCUMENTS:
        assert name == f"{data['service']}.yaml"


def test_key_protect_and_hpcs_share_the_key_management_actions(catalog: Catalog) -> None:
    kp_only = {"instance.readallowedipport", "crypto-unit.read", "crypto-unit.list",
               "crypto-unit.send", "crypto-unit.claim", "crypto-unit.zeroize"}  # fmt: skip
    kms = {a.removeprefix("kms.") for a in catalog.services["kms"].actions}
    hpcs = {a.removeprefix("hs-crypto.") for a in catalog.services["hs-crypto"].actions}
    assert kms - kp_only <= hpcs
    assert kp_only.isdisjoint(hpcs)


def test_no_action_id_has_more_than_three_parts(catalog: Catalog) -> None:
    # IBM's ids all fit <service>.<noun>.<verb>; routes rely on it (tests/api).
    for service in catalog.services.values():
        for action in service.actions:
            assert len(action.split(".")) == 3, action
