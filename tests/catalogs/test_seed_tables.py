"""The seed tables, restated as data in `seed_tables/`, are what the catalog grants: every
checkmark and every blank, for each service a table applies to. The spec's role table
(kms-api.md §4.1, in `spec_tables/`) holds too, except where a seed table overrides it - and
every such override must be backed by a seed-table row."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from strongroom.policy import Catalog, load_catalog
from strongroom.policy.catalog import catalog_from

from .tables import (
    SEED_TABLES,
    SPEC_TABLES,
    Case,
    TableError,
    all_cases,
    load_table,
    mismatches,
    raw_catalog_documents,
    role_for,
    table_files,
)

SEED_CASES = all_cases(SEED_TABLES, strict=True)
SPEC_CASES = all_cases(SPEC_TABLES, strict=False)

# The seed tables encoded, one file each (seed 003 tables 6 and 7 repeat seed 004 tables 2 and 3).
ENCODED = {
    "seed 000 table 2", "seed 000 table 3", "seed 000 table 4", "seed 000 table 5",
    "seed 000 table 6", "seed 000 table 7",
    "seed 003 table 4", "seed 003 table 5", "seed 003 table 6", "seed 003 table 7",
    "seed 004 table 1", "seed 004 table 2", "seed 004 table 3",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_every_encoded_seed_table_has_its_file() -> None:
    sources = {}
    for path in table_files(SEED_TABLES):
        data = load_table(path, strict=True)
        number = re.fullmatch(r"seed (\d{3}) table (\d+)", data["source"])
        assert number, f"{path.name}: source `{data['source']}` is not `seed NNN table N`"
        assert path.name.startswith(f"seed{number[1]}_table{number[2]}_"), path.name
        sources[data["source"]] = path.name
    assert set(sources) == ENCODED


def test_seed_000_tables_4_and_2_apply_to_both_key_services() -> None:
    for name in ("seed000_table4_key_resources.yaml", "seed000_table2_platform_roles.yaml"):
        assert {c.service for c in SEED_CASES if c.table == name} == {"kms", "hs-crypto"}


def test_seed_000_table_4_has_every_row_of_the_seed() -> None:
    rows = {c.row for c in SEED_CASES if c.table == "seed000_table4_key_resources.yaml"}
    assert len(rows) == 35


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda c: c.id)
def test_catalog_grants_exactly_the_seed_table_row(catalog: Catalog, case: Case) -> None:
    assert mismatches(catalog, case) == []


@pytest.mark.parametrize("case", SPEC_CASES, ids=lambda c: c.id)
def test_catalog_grants_the_spec_table_row_unless_a_seed_overrides_it(
    catalog: Catalog, case: Case
) -> None:
    assert mismatches(catalog, case) == []


@pytest.mark.parametrize("case", [c for c in SPEC_CASES if c.seed_wins], ids=lambda c: c.id)
def test_every_seed_override_of_the_spec_is_backed_by_a_seed_table_row(
    catalog: Catalog, case: Case
) -> None:
    service = catalog.services[case.service]
    for column, value in case.seed_wins.items():
        role = role_for(service, column)
        for action in case.actions:
            backing = [
                seed
                for seed in SEED_CASES
                if seed.service == case.service
                and action in seed.actions
                and any(
                    role_for(service, col).crn == role.crn and v == value
                    for col, v in seed.cells.items()
                )
            ]
            assert backing, f"{case.row}: no seed table says {role.name}={value} for {action}"


def test_the_seed_overrides_are_the_two_known_disagreements() -> None:
    overridden = {(a, col) for c in SPEC_CASES for a in c.actions for col in c.seed_wins}
    assert overridden == {
        ("kms.secrets.deletealias", "Writer"),
        ("hs-crypto.secrets.deletealias", "Writer"),
        ("hs-crypto.keystore.updatekey", "Reader"),
        ("hs-crypto.keystore.updatekey", "ReaderPlus"),
    }


# -- the check itself can fail ---------------------------------------------------------------------


def altered_catalog(service: str, role: str, *, remove: str = "", add: str = "") -> Catalog:
    documents = copy.deepcopy(raw_catalog_documents())
    for _, data in documents:
        if data["service"] == service:
            entry = next(r for r in data["roles"] if r["id"] == role)
            entry["actions"] = [a for a in entry["actions"] if a != remove] + ([add] if add else [])
    return catalog_from(documents)


def row(table: str, service: str, text: str) -> Case:
    return next(
        c for c in SEED_CASES if c.table == table and c.service == service and c.row == text
    )


def test_a_missing_checkmark_is_reported() -> None:
    case = row("seed000_table4_key_resources.yaml", "kms", "Create a key.")
    problems = mismatches(altered_catalog("kms", "Writer", remove="kms.secrets.create"), case)
    assert problems == [
        "seed 000 table 4, 'Create a key.': Writer does not grant kms.secrets.create"
        " (the table has a checkmark)"
    ]


def test_a_grant_where_the_seed_has_a_blank_is_reported() -> None:
    case = row("seed000_table4_key_resources.yaml", "hs-crypto", "Purge a key.")
    problems = mismatches(
        altered_catalog("hs-crypto", "Manager", add="hs-crypto.secrets.purge"), case
    )
    assert len(problems) == 1 and "Manager grants hs-crypto.secrets.purge" in problems[0]


def test_an_unknown_action_or_service_or_column_is_reported(catalog: Catalog) -> None:
    case = row("seed000_table2_platform_roles.yaml", "kms", "View instances.")
    assert mismatches(catalog, Case(**{**case.__dict__, "actions": ("kms.instances.view",)}))
    assert mismatches(catalog, Case(**{**case.__dict__, "service": "no-such-service"}))
    assert mismatches(catalog, Case(**{**case.__dict__, "cells": {"Auditor": True}}))


def test_a_malformed_table_does_not_load(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    header = "source: seed 000 table 6\nservices: [hs-crypto]\ncolumns: [Reader, Manager]\nrows:\n"
    for rows in (
        "  - {row: x, actions: [kmip.status], Reader: false}\n",  # a blank left out
        "  - {row: a, b, actions: [kmip.status], Reader: false, Manager: false}\n",  # comma in text
        "  - {row: x, actions: [kmip.status], Reader: false, Manager: yes please}\n",
        "  - {row: x, actions: [], Reader: false, Manager: false}\n",
    ):
        bad.write_text(header + rows)
        with pytest.raises(TableError):
            load_table(bad, strict=True)
