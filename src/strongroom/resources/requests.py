"""What callers send to the Resource Controller (spec §8) and the rules on it. Pure: bodies
arrive as parsed JSON, and every refusal is a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from strongroom.errors import Invalid

MAX_NAME = 255
MAX_TAGS = 100
MAX_TAG = 128


@dataclass(frozen=True, slots=True)
class NewInstance:
    name: str
    target: str
    resource_group: str
    resource_plan_id: str
    tags: tuple[str, ...]
    parameters: Mapping[str, Any]
    allow_cleanup: bool


@dataclass(frozen=True, slots=True)
class InstanceChanges:
    name: str | None = None
    parameters: Mapping[str, Any] | None = None
    resource_plan_id: str | None = None
    allow_cleanup: bool | None = None


@dataclass(frozen=True, slots=True)
class NewKey:
    name: str
    source: str
    role: str | None


def _object(body: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field `{unknown[0]}`", field=unknown[0])
    return body


def check_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"`{field}` must be a non-empty string", field=field)
    if len(value) > MAX_NAME:
        raise Invalid(f"`{field}` must be at most {MAX_NAME} characters", field=field)
    return value


def _text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise Invalid(f"`{field}` is required and must be a string", field=field)
    return value


def _parameters(value: object) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("`parameters` must be a JSON object", field="parameters")
    return value


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"`{field}` must be true or false", field=field)
    return value


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise Invalid(f"`tags` must be a list of at most {MAX_TAGS} strings", field="tags")
    for tag in value:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG:
            raise Invalid(f"each tag must be a string of 1-{MAX_TAG} characters", field="tags")
    return tuple(value)


def check_new_instance(body: object) -> NewInstance:
    allowed = (
        "name", "target", "resource_group", "resource_plan_id", "tags", "allow_cleanup",
        "parameters",
    )  # fmt: skip
    data = _object(body, allowed)
    cleanup = data.get("allow_cleanup")
    return NewInstance(
        name=check_name(data.get("name")),
        target=_text(data, "target"),
        resource_group=_text(data, "resource_group"),
        resource_plan_id=_text(data, "resource_plan_id"),
        tags=_tags(data.get("tags")),
        parameters=_parameters(data.get("parameters")),
        allow_cleanup=False if cleanup is None else _flag(cleanup, "allow_cleanup"),
    )


def check_instance_changes(body: object) -> InstanceChanges:
    data = _object(body, ("name", "parameters", "resource_plan_id", "allow_cleanup"))
    if not data:
        raise Invalid(
            "send at least one of `name`, `parameters`, `resource_plan_id`, `allow_cleanup`",
            field="body",
        )
    return InstanceChanges(
        name=check_name(data["name"]) if "name" in data else None,
        parameters=_parameters(data["parameters"]) if "parameters" in data else None,
        resource_plan_id=_text(data, "resource_plan_id") if "resource_plan_id" in data else None,
        allow_cleanup=_flag(data["allow_cleanup"], "allow_cleanup")
        if "allow_cleanup" in data
        else None,
    )


def check_new_key(body: object) -> NewKey:
    data = _object(body, ("name", "source", "role", "parameters"))
    parameters = _parameters(data.get("parameters"))
    if parameters:
        # IBM reuses a service ID named by `parameters.serviceid_crn`; here every key makes its
        # own, so a parameter that would change that is refused rather than ignored.
        raise Invalid(
            f"`parameters.{sorted(parameters)[0]}` is not supported; each key makes its own"
            " service ID",
            field="parameters",
        )
    role = data.get("role")
    if role is not None and (not isinstance(role, str) or not role):
        raise Invalid("`role` must be a role name (Reader, Writer, Manager) or a role CRN", "role")
    return NewKey(check_name(data.get("name")), _text(data, "source"), role)


def check_key_name(body: object) -> str:
    return check_name(_object(body, ("name",)).get("name"))


def check_time(value: str | None, field: str) -> datetime | None:
    """`updated_from` / `updated_to`: an ISO-8601 date or time (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"`{field}` must be an ISO-8601 date or time, not `{value}`", field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
