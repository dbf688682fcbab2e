"""A policy written through one API family, rendered in the other's shape (spec §6.1: "v1 list
returns policies created through v2, rendered in v1 shape"; and the reverse for v2).

Only reads of the other family convert; the family that wrote a policy always gets back exactly
what it sent (spec §1 fact 9). Stored documents have passed validation, so their shape is known.

The two shapes differ in three ways, and each is settled here as follows:
- attribute members: v1 says `name`, v2 says `key`;
- operators: v1 subjects have none and v1 resources default to `stringEquals`, while v2 always
  names one. v1 -> v2 writes the implied `stringEquals`. v2 -> v1 keeps the operator (the SDK's
  v1 models carry `operator` on resource attributes and tags), and on a subject keeps it only
  when it is not `stringEquals`, so that no condition is silently widened;
- conditions: v1 has no `rule` or `pattern`. v2 -> v1 keeps both as extra members instead of
  dropping them: a time-limited grant must not read as unconditional (SDK models ignore
  members they do not know).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Document = Mapping[str, Any]


def _v1_attribute(attribute: Mapping[str, Any], *, subject: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": attribute["key"], "value": attribute["value"]}
    operator = attribute.get("operator", "stringEquals")
    if not subject or operator != "stringEquals":
        out["operator"] = operator
    return out


def _v2_attribute(attribute: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": attribute["name"],
        "operator": attribute.get("operator") or "stringEquals",
        "value": attribute["value"],
    }


def _head(doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {"type": doc["type"]}
    if "description" in doc:
        out["description"] = doc["description"]
    return out


def v2_as_v1(doc: Document) -> dict[str, Any]:
    out = _head(doc)
    subject: Sequence[Mapping[str, Any]] = doc["subject"]["attributes"]
    out["subjects"] = [{"attributes": [_v1_attribute(a, subject=True) for a in subject]}]
    out["roles"] = [dict(role) for role in doc["control"]["grant"]["roles"]]
    resource: dict[str, Any] = {
        "attributes": [_v1_attribute(a, subject=False) for a in doc["resource"]["attributes"]]
    }
    if "tags" in doc["resource"]:
        resource["tags"] = [_v1_attribute(t, subject=False) for t in doc["resource"]["tags"]]
    out["resources"] = [resource]
    for key in ("pattern", "rule"):
        if key in doc:
            out[key] = doc[key]
    return out


def v1_as_v2(doc: Document) -> dict[str, Any]:
    out = _head(doc)
    (subject,) = doc["subjects"]
    (resource,) = doc["resources"]
    out["subject"] = {"attributes": [_v2_attribute(a) for a in subject["attributes"]]}
    rendered: dict[str, Any] = {"attributes": [_v2_attribute(a) for a in resource["attributes"]]}
    if "tags" in resource:
        rendered["tags"] = [_v2_attribute(t) for t in resource["tags"]]
    out["resource"] = rendered
    out["control"] = {"grant": {"roles": [dict(role) for role in doc["roles"]]}}
    return out


def in_family(doc: Document, written_by: str, family: str) -> dict[str, Any]:
    """The document as `family` (v1 | v2) shows it."""
    if written_by == family:
        return dict(doc)
    return v2_as_v1(doc) if family == "v1" else v1_as_v2(doc)
