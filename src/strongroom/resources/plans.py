"""The plan catalog (`plans.yaml`): which services can be provisioned, with which plans, where.

Loaded once by bootstrap and handed to the instance use cases; validated when loaded so a typo
in the data stops the server at start rather than at the first create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from strongroom.errors import Invalid


class PlanCatalogError(ValueError):
    """`plans.yaml` is malformed."""


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    service: str


@dataclass(frozen=True, slots=True)
class ProvisionableService:
    name: str
    display_name: str
    locations: tuple[str, ...]
    plans: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class PlanCatalog:
    services: Mapping[str, ProvisionableService]
    locations: tuple[str, ...]

    def plan(self, plan_id: object) -> Plan:
        """The plan with this id, or 400 naming `resource_plan_id`."""
        for service in self.services.values():
            for plan in service.plans:
                if plan.id == plan_id:
                    return plan
        raise Invalid(f"`resource_plan_id` `{plan_id}` names no known plan", "resource_plan_id")

    def plan_of(self, service: str, ref: str) -> Plan:
        """A plan of `service` named by id or by name (the CLI takes names, as `ibmcloud`)."""
        found = self.services.get(service)
        if found is None:
            known = ", ".join(sorted(self.services))
            raise Invalid(f"service `{service}` is not provisionable here ({known})", "service")
        for plan in found.plans:
            if ref in (plan.id, plan.name):
                return plan
        names = ", ".join(p.name for p in found.plans)
        raise Invalid(f"service `{service}` has no plan `{ref}` ({names})", "resource_plan_id")

    def check_location(self, service: str, location: object) -> str:
        allowed = self.services[service].locations
        if location not in allowed:
            raise Invalid(
                f"`target` `{location}` is not a location of `{service}`"
                f" (one of {', '.join(allowed)})",
                "target",
            )
        return str(location)


def load_plans(text: str | None = None) -> PlanCatalog:
    if text is None:
        text = resources.files(__package__).joinpath("plans.yaml").read_text()
    data: Any = yaml.safe_load(text)
    try:
        locations = tuple(str(x) for x in data["locations"])
        services: dict[str, ProvisionableService] = {}
        seen: set[str] = set()
        for name, entry in data["services"].items():
            plans = tuple(Plan(str(p["id"]), str(p["name"]), name) for p in entry["plans"])
            where = tuple(str(x) for x in entry["locations"])
            unknown = set(where) - set(locations)
            if unknown:
                raise PlanCatalogError(f"{name}: unknown locations {sorted(unknown)}")
            for plan in plans:
                if plan.id in seen:
                    raise PlanCatalogError(f"{name}: plan id {plan.id} is used twice")
                seen.add(plan.id)
            services[name] = ProvisionableService(name, str(entry["display_name"]), where, plans)
    except (KeyError, TypeError, AttributeError) as exc:
        raise PlanCatalogError(f"plans.yaml is malformed: {exc!r}") from exc
    return PlanCatalog(services, locations)
