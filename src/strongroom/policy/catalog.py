"""Role and action catalogs: data files, one per service (`strongroom/catalogs/*.yaml`).

A file says which service it describes, whether it is an IAM-enabled `service` or a
`platform_service` (account management), its actions (`<service>.<noun>.<verb>`), and for each
role (by CRN) the actions that role grants on this service. Loading validates everything: a
catalog that would let a typo grant or hide an action does not load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any, Literal

import yaml

ACTION_ID = re.compile(r"^[a-z0-9-]+(\.[a-zA-Z0-9_-]+){2,}$")
ROLE_CRN = re.compile(r"^crn:v1:[a-z]+:public:[a-z0-9-]+::::(role|serviceRole):[A-Za-z0-9]+$")

ServiceKind = Literal["service", "platform_service"]


class CatalogError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Role:
    crn: str
    name: str  # "Viewer", "ReaderPlus", ...
    display_name: str
    description: str
    actions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    display_name: str
    kind: ServiceKind
    groups: tuple[str, ...]  # service groups, e.g. ("IAM",)
    resource_types: tuple[str, ...]
    actions: Mapping[str, str]  # action id -> description
    roles: Mapping[str, Role]  # role CRN -> role on this service
    # True for a service whose actions are done on other services' instances (resource
    # controller: aliases, bindings, credentials); its own roles say who may do them there.
    acts_on_instances: bool = False


@dataclass(frozen=True)
class Catalog:
    services: Mapping[str, Service]

    def service(self, name: str) -> Service | None:
        return self.services.get(name)

    def actions_of(self, service: str, role_crn: str) -> frozenset[str]:
        """What `role_crn` grants on `service` (empty when the role means nothing there)."""
        found = self.services.get(service)
        role = found.roles.get(role_crn) if found else None
        return role.actions if role else frozenset()

    @cached_property
    def instance_services(self) -> frozenset[str]:
        """Services whose actions act on other services' instances (`acts_on_instances`)."""
        return frozenset(name for name, s in self.services.items() if s.acts_on_instances)

    @cached_property
    def role_crns(self) -> frozenset[str]:
        """Every role CRN any service defines."""
        return frozenset(crn for service in self.services.values() for crn in service.roles)

    def services_of_kind(self, kind: ServiceKind) -> Iterable[Service]:
        return (s for s in self.services.values() if s.kind == kind)

    @cached_property
    def known_actions(self) -> frozenset[str]:
        """Every action a service defines under its own name (`<service>.<noun>.<verb>`)."""
        return frozenset(
            action
            for name, service in self.services.items()
            for action in service.actions
            if action.split(".", 1)[0] == name
        )

    def knows_action(self, action: str) -> bool:
        # One set lookup: asked once per decision (access/decisions.py)
        return action in self.known_actions


def _service(data: Mapping[str, Any], source: str) -> Service:
    def need(key: str) -> Any:
        if key not in data:
            raise CatalogError(f"{source}: `{key}` is missing")
        return data[key]

    name = need("service")
    kind = data.get("kind", "service")
    if kind not in ("service", "platform_service"):
        raise CatalogError(f"{source}: kind must be service or platform_service, not `{kind}`")
    actions: dict[str, str] = {}
    for entry in need("actions"):
        action = entry["id"]
        if not ACTION_ID.match(action) or not action.startswith(f"{name}."):
            raise CatalogError(f"{source}: action `{action}` is not `{name}.<noun>.<verb>`")
        if action in actions:
            raise CatalogError(f"{source}: action `{action}` is listed twice")
        actions[action] = entry.get("description", "")
    roles: dict[str, Role] = {}
    for entry in need("roles"):
        crn = entry["crn"]
        if not ROLE_CRN.match(crn):
            raise CatalogError(f"{source}: role CRN `{crn}` is malformed")
        unknown = set(entry["actions"]) - set(actions)
        if unknown:
            raise CatalogError(
                f"{source}: role `{entry['id']}` grants unknown actions {sorted(unknown)}"
            )
        if crn in roles:
            raise CatalogError(f"{source}: role `{crn}` is listed twice")
        roles[crn] = Role(
            crn=crn,
            name=entry["id"],
            display_name=entry.get("display_name", entry["id"]),
            description=entry.get("description", ""),
            actions=frozenset(entry["actions"]),
        )
    return Service(
        name=name,
        display_name=data.get("display_name", name),
        kind=kind,
        groups=tuple(data.get("groups", ())),
        resource_types=tuple(data.get("resource_types", ())),
        actions=actions,
        roles=roles,
        acts_on_instances=bool(data.get("acts_on_instances", False)),
    )


def catalog_from(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> Catalog:
    services: dict[str, Service] = {}
    for source, data in documents:
        service = _service(data, source)
        if service.name in services:
            raise CatalogError(f"{source}: service `{service.name}` is described twice")
        services[service.name] = service
    return Catalog(services)


# libyaml's loader where PyYAML was built with it: the same documents, parsed about ten times
# faster. The pure-Python loader made reading the catalogs most of a restart's time
# (reliability.md S1, recovery to ready).
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_catalog() -> Catalog:
    """The catalogs shipped in `strongroom/catalogs/` (read once, at start, by bootstrap)."""
    folder = resources.files("strongroom.catalogs")
    documents = [
        (entry.name, yaml.load(entry.read_text(), Loader=SAFE_LOADER))  # noqa: S506 (safe)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
    return catalog_from(documents)
