"""The quota definitions shipped in `quota_definitions.yaml` (spec §7): loaded once by bootstrap,
validated as they load, read-only afterwards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

import yaml

from strongroom.resources.models import QuotaDefinition, ResourceQuota

NUMBERS = (
    "number_of_apps",
    "number_of_service_instances",
    "default_number_of_instances_per_lite_plan",
    "instances_per_app",
    "vsi_limit",
)


class QuotaCatalog:
    def __init__(self, definitions: Sequence[QuotaDefinition], default_id: str) -> None:
        self._by_id = {d.id: d for d in definitions}
        if len(self._by_id) != len(definitions):
            raise ValueError("quota definition ids must be unique")
        if default_id not in self._by_id:
            raise ValueError(f"the default quota `{default_id}` is not defined")
        self.default = self._by_id[default_id]

    def all(self) -> list[QuotaDefinition]:
        return list(self._by_id.values())

    def get(self, quota_id: str) -> QuotaDefinition | None:
        return self._by_id.get(quota_id)


def _number(value: Any) -> float:
    """Kept as written (100 stays an integer in the JSON answers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a quota limit must be a number, not `{value!r}`")
    return value


def _definition(data: Mapping[str, Any]) -> QuotaDefinition:
    quotas = tuple(
        ResourceQuota(str(q["id"]), str(q["resource_id"]), str(q["crn"]), _number(q["limit"]))
        for q in data.get("resource_quotas", ())
    )
    return QuotaDefinition(
        id=str(data["id"]),
        name=str(data["name"]),
        type=str(data["type"]),
        **{key: _number(data[key]) for key in NUMBERS},
        instance_memory=str(data["instance_memory"]),
        total_app_memory=str(data["total_app_memory"]),
        resource_quotas=quotas,
        created_at=datetime.fromisoformat(str(data["created_at"])),
        updated_at=datetime.fromisoformat(str(data["updated_at"])),
    )


def quota_catalog_from(documents: Sequence[Mapping[str, Any]]) -> QuotaCatalog:
    defaults = [str(d["id"]) for d in documents if d.get("default")]
    if len(defaults) != 1:
        raise ValueError("exactly one quota definition must be marked `default: true`")
    return QuotaCatalog([_definition(d) for d in documents], defaults[0])


def load_quotas() -> QuotaCatalog:
    text = resources.files("strongroom.resources").joinpath("quota_definitions.yaml").read_text()
    return quota_catalog_from(yaml.safe_load(text))
