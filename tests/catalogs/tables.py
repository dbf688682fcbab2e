"""Role tables as data, and the check that a catalog grants exactly what a table says.

A table file (`seed_tables/*.yaml`, `spec_tables/*.yaml`) restates one table of a seed document
or of the spec row by row: each row names the actions it is about (without the `<service>.`
prefix, so one table can be checked against several services) and, for each role column, whether
that role grants them (`true`, a checkmark) or not (`false`, a blank). A row may narrow the
services it applies to (`services`). Spec tables may name further role columns per row and carry
`seed_wins`: cells where a seed table overrides the spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from strongroom.policy.catalog import Catalog, Role, Service

HERE = Path(__file__).parent
SEED_TABLES = HERE / "seed_tables"
SPEC_TABLES = HERE / "spec_tables"
META = frozenset({"row", "actions", "services", "seed_wins"})


class TableError(ValueError):
    pass


@dataclass(frozen=True)
class Case:
    """One row of one table, as it applies to one service."""

    table: str  # file name
    source: str  # "seed 000 table 4", "kms-api.md §4.1"
    service: str
    index: int
    row: str
    actions: tuple[str, ...]  # full action ids
    cells: Mapping[str, bool]  # role column -> granted? (seed overrides applied)
    seed_wins: Mapping[str, bool]

    @property
    def id(self) -> str:
        return f"{self.table.removesuffix('.yaml')}:{self.service}:{self.index}"


def load_table(path: Path, *, strict: bool) -> dict[str, Any]:
    """Read and validate a table file. `strict`: every row has exactly the table's columns."""
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    for key in ("source", "services", "columns", "rows"):
        if key not in data:
            raise TableError(f"{path.name}: `{key}` is missing")
    columns = data["columns"]
    for i, row in enumerate(data["rows"]):
        where = f"{path.name} row {i} ({row.get('row')!r})"
        if not isinstance(row.get("row"), str) or not row["row"]:
            raise TableError(f"{where}: `row` must restate the seed's row text")
        actions = row.get("actions")
        if not actions or not all(isinstance(a, str) and a.count(".") >= 1 for a in actions):
            raise TableError(f"{where}: `actions` must be a list of `<noun>.<verb>`")
        missing = [c for c in columns if c not in row]
        if missing:
            raise TableError(f"{where}: cells {missing} are missing (blanks must be `false`)")
        cells = {k: v for k, v in row.items() if k not in META}
        if strict and set(cells) != set(columns):
            raise TableError(f"{where}: unexpected keys {sorted(set(cells) - set(columns))}")
        not_bool = [
            k for k, v in {**cells, **row.get("seed_wins", {})}.items() if not isinstance(v, bool)
        ]
        if not_bool:
            raise TableError(f"{where}: cells {not_bool} must be true or false")
        if set(row.get("seed_wins", {})) - set(cells):
            raise TableError(f"{where}: `seed_wins` names a column the row does not have")
    return data


def cases_of(path: Path, data: Mapping[str, Any]) -> list[Case]:
    found = []
    for i, row in enumerate(data["rows"]):
        seed_wins = dict(row.get("seed_wins", {}))
        cells = {k: v for k, v in row.items() if k not in META}
        for service in row.get("services", data["services"]):
            found.append(
                Case(
                    table=path.name,
                    source=data["source"],
                    service=service,
                    index=i,
                    row=row["row"],
                    actions=tuple(f"{service}.{a}" for a in row["actions"]),
                    cells={**cells, **seed_wins},
                    seed_wins=seed_wins,
                )
            )
    return found


def table_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def all_cases(folder: Path, *, strict: bool) -> list[Case]:
    return [c for p in table_files(folder) for c in cases_of(p, load_table(p, strict=strict))]


def normalize(name: str) -> str:
    return "".join(name.split()).casefold()


def role_for(service: Service, column: str) -> Role:
    """The one role of `service` a table column names, by id or display name, ignoring case and
    spaces: "KMS Key Purge" is KMSKeyPurge, "Crypto unit administrator" CryptoUnitAdministrator."""
    wanted = normalize(column)
    found = [
        role
        for role in service.roles.values()
        if wanted in (normalize(role.name), normalize(role.display_name))
    ]
    if len(found) != 1:
        raise LookupError(f"{service.name}: column `{column}` names {len(found)} roles, not one")
    return found[0]


def mismatches(catalog: Catalog, case: Case) -> list[str]:
    """Where the catalog differs from the row: unknown service, action or role, a checkmark the
    role does not grant, or a blank it does grant. Empty when the catalog agrees."""
    service = catalog.service(case.service)
    if service is None:
        return [f"no catalog for service `{case.service}`"]
    problems = [
        f"`{a}` is not an action of {case.service}"
        for a in case.actions
        if a not in service.actions
    ]
    for column, expected in case.cells.items():
        try:
            role = role_for(service, column)
        except LookupError as error:
            problems.append(str(error))
            continue
        for action in case.actions:
            granted = action in role.actions
            if granted != expected:
                verb = "does not grant" if expected else "grants"
                problems.append(
                    f"{case.source}, {case.row!r}: {role.name} {verb} {action}"
                    f" (the table has {'a checkmark' if expected else 'a blank'})"
                )
    return problems


def raw_catalog_documents() -> list[tuple[str, dict[str, Any]]]:
    """The shipped catalog files as plain data (to build altered copies with `catalog_from`)."""
    folder = resources.files("strongroom.catalogs")
    return [
        (entry.name, yaml.safe_load(entry.read_text()))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]


def catalog_file_texts() -> Iterable[tuple[str, str]]:
    folder = resources.files("strongroom.catalogs")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            yield entry.name, entry.read_text()
