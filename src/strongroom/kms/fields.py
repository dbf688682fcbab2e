"""Reading the members of a JSON request object the way Key Protect's Go server does (spec
kms-api.md §2.1: go sends `Tags` and `KeyRingID`, so member names match case-insensitively).

A wrong JSON type or an unknown member is `BAD_BODY_ERR` (what a Go decoder with unknown fields
disallowed reports, kpdocs error-messages.md §4); a well-typed value that breaks a rule is the
caller's `INVALID_FIELD_ERR`. JSON `null` counts as absent: go omits empty pointers, other
clients send null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from strongroom.kms.errors import KmsError


def bad_body(message: str, what: str) -> KmsError:
    return KmsError("BAD_BODY_ERR", message, what=what)


def invalid_field(field: str, message: str, what: str) -> KmsError:
    return KmsError("INVALID_FIELD_ERR", message, what=what, target=field)


def members(
    value: object,
    allowed: Iterable[str],
    *,
    where: str,
    what: str,
    ignored: Iterable[str] = (),
) -> dict[str, Any]:
    """`value`'s members under their canonical names, nulls dropped.

    `where` names the object in messages (`a policy resource`); `ignored` members are accepted and
    dropped (read-only fields a client may send back from a GET)."""
    if not isinstance(value, Mapping):
        raise bad_body(f"{where} must be a JSON object", what)
    canonical = {name.casefold(): name for name in allowed}
    skipped = {name.casefold() for name in ignored}
    out: dict[str, Any] = {}
    for raw, member in value.items():
        folded = str(raw).casefold()
        if folded in skipped:
            continue
        name = canonical.get(folded)
        if name is None:
            raise bad_body(f"{where} has an unknown field `{raw}`", what)
        if name in out:
            raise bad_body(f"{where} gives the field `{name}` twice", what)
        if member is not None:
            out[name] = member
    return out


def boolean(value: object, field: str, what: str) -> bool:
    if not isinstance(value, bool):
        raise bad_body(f"the field `{field}` must be true or false", what)
    return value


def integer(value: object, field: str, what: str) -> int:
    # bool is an int in Python but not in JSON; 3.0 is a float to Go's decoder too.
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_body(f"the field `{field}` must be an integer", what)
    return value


def string(value: object, field: str, what: str) -> str:
    if not isinstance(value, str):
        raise bad_body(f"the field `{field}` must be a string", what)
    return value
