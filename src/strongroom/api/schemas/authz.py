"""Bodies and responses of the policy decision point (spec ibm-platform-api.md §12).

A body is a JSON array of requests, each

    {"subject": {"attributes": {"id": "<iam_id>", "accountId"?, "scope"?, "serviceName"?, ...}}
             or {"accessTokenBody": "<access token | its base64url payload | the payload JSON>"},
     "action": "<service>.<noun>.<verb>",               (not on /v2/authz/roles)
     "resource": {"attributes": {"accountId", "serviceName", "serviceInstance", ...}}
              or {"crn": "<resource CRN>"},
     "environment"?: {"attributes": {"current_date_time"?: "<ISO-8601 with offset>", ...}},
     "requestId"?: <a string or number, echoed>}

The body is read by hand rather than by a pydantic model, so that every refusal names the item
and field the way a caller reads its own array (`requests[3].action`) and no input makes a 500.
Unknown keys are ignored, as IBM's newer clients may send more.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from strongroom.access.decisions import Question, RoleGrant
from strongroom.crn import CRN, CRNError
from strongroom.errors import Invalid, Unauthenticated
from strongroom.policy import Decision, Subject
from strongroom.tokens.claims import Principal

MAX_REQUESTS = 1000
NOT_AN_ARRAY = "the request body must be a JSON array of authorization requests"
MAX_CACHE_AGE_SECONDS = 600
AUTHZ_MEDIA = "application/vnd.authz.v2+json"
ROLES_MEDIA = "application/vnd.authzroles.v2+json"
ACTION = re.compile(r"^[a-z0-9-]+(\.[A-Za-z0-9_-]+){2,}$")
# The full moment of the decision; `current_time` is accepted as a synonym when it holds a full
# date-time (in policy rules `current_time` is the time of day, which alone names no moment).
MOMENT_KEYS = ("current_date_time", "current_time")

Verify = Callable[[str], Principal]


@dataclass(slots=True, kw_only=True)  # not frozen: one per item (policy/model.py says why)
class Item(Question):
    """One request of a batch: the engine's question itself (one object per item, not two),
    plus what the response echoes."""

    request_id: Any  # echoed exactly when sent
    has_request_id: bool
    subject_echo: dict[str, Any]  # obligation.subject.attributes: the body's own object


def _bad(where: str, message: str) -> Invalid:
    return Invalid(f"`{where}` {message}", field=where)


def _at(index: int, *parts: str) -> str:
    """The path of a field as the caller reads its own array: `requests[3].subject.attributes`.
    Built only for an error: a batch of 100 spent a fifth of its reading on paths."""
    return ".".join((f"requests[{index}]", *parts))


# `parts` is a tuple, not `*parts`: a literal tuple is a constant, where varargs would pack a
# new one on every call, for a path that is built only on error.
def _object(value: Any, index: int, parts: tuple[str, ...] = ()) -> dict[str, Any]:
    if type(value) is not dict:  # what a JSON parser makes of an object, never a subclass
        raise _bad(_at(index, *parts), "must be a JSON object")
    return value


def _strings(value: Any, index: int, parts: tuple[str, ...]) -> dict[str, str]:
    """The object itself, once its values are known to be strings (it is the parsed body's own:
    a caller that changes it copies it first)."""
    if type(value) is not dict:
        raise _bad(_at(index, *parts), "must be a JSON object")
    for key, item in value.items():
        if type(item) is not str:
            raise _bad(_at(index, *parts, key), "must be a string")
    return value


# The subject part of a request, as the decision point needs it and as it is echoed: the
# subject, its echo (obligation.subject.attributes), and for an access token its account, its
# expiry, and why it was refused. A plain tuple, not a class: in CPython 3.11 building an
# instance re-enters the interpreter for `__init__`, a third of reading a usual subject.
Who = tuple[Subject, dict[str, Any], str | None, datetime | None, str | None]


def _who(
    subject: Subject,
    echo: dict[str, Any],
    token_account: str | None = None,
    expires: datetime | None = None,
    refusal: str | None = None,
) -> Who:
    return subject, echo, token_account, expires, refusal


NOT_SUBJECT_SHAPE = "must be an access token, its payload, or the payload's JSON"


def _from_claims(claims: Any, where: str) -> Who:
    """An unverified payload: the calling service vouches for it, as it does for an `id`."""
    if not isinstance(claims, dict) or not isinstance(claims.get("iam_id"), str):
        raise _bad(where, NOT_SUBJECT_SHAPE)
    iam_id = claims["iam_id"]
    if not iam_id:
        raise _bad(where, "names an empty `iam_id`")
    account = claims.get("account")
    bss = account.get("bss") if isinstance(account, dict) else None
    bss = bss if isinstance(bss, str) and bss else None
    exp = claims.get("exp")
    expires = (
        datetime.fromtimestamp(exp, UTC)
        if isinstance(exp, int | float) and not isinstance(exp, bool) and 0 <= exp < 1e11
        else None
    )
    echo: dict[str, Any] = {"id": iam_id}
    if bss:
        echo["accountId"] = bss
    if isinstance(claims.get("scope"), str):
        echo["scope"] = claims["scope"]
    return _who(Subject(iam_id=iam_id), echo, token_account=bss, expires=expires)


def _decode_payload(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("{"):
        claims = json.loads(stripped)
    else:
        padded = stripped + "=" * (-len(stripped) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    # What is echoed must be writable back out: no unpaired surrogates from `\ud800` escapes.
    json.dumps(claims, ensure_ascii=False).encode("utf-8")
    return claims


def _token_subject(text: Any, where: str, verify: Verify) -> Who:
    if not isinstance(text, str) or not text.strip():
        raise _bad(where, "must be a non-empty string")
    if "." in text and not text.lstrip().startswith("{"):
        # A whole token (a base64url payload has no dot): verify it as any route would, even
        # when a dot too many or too few spoils it, rather than reading it as an unverified
        # payload (reliability.md T1). A token that fails is not bad input, it is a subject who
        # is not authenticated: that item is denied, the batch goes on.
        try:
            principal = verify(text.strip())
        except Unauthenticated as exc:
            refusal = f"the subject's access token was refused: {exc.message}"
            return _who(Subject(), {"id": ""}, refusal=refusal)
        echo: dict[str, Any] = {"id": principal.iam_id, "accountId": principal.account_id}
        scope = principal.claims.get("scope")
        if isinstance(scope, str):
            echo["scope"] = scope
        return _who(Subject(iam_id=principal.iam_id), echo, token_account=principal.account_id)
    try:
        claims = _decode_payload(text)
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise _bad(where, NOT_SUBJECT_SHAPE) from exc
    return _from_claims(claims, where)


def _subject(value: Any, index: int, verify: Verify) -> Who:
    subject = _object(value, index, ("subject",))
    if ("attributes" in subject) == ("accessTokenBody" in subject):
        raise _bad(_at(index, "subject"), "needs exactly one of `attributes` or `accessTokenBody`")
    if "accessTokenBody" in subject:
        where = _at(index, "subject", "accessTokenBody")
        return _token_subject(subject["accessTokenBody"], where, verify)
    attributes = _strings(subject["attributes"], index, ("subject", "attributes"))
    # The key must be there; an empty value is a subject no policy names, so it is denied.
    if "id" not in attributes and "serviceName" not in attributes:
        raise _bad(
            _at(index, "subject", "attributes"),
            "needs `id` (an iam_id) or, for a calling service, `serviceName`",
        )
    if len(attributes) == 1 and "id" in attributes:  # the usual subject: an iam_id alone
        return Subject(iam_id=attributes["id"]), attributes, None, None, None
    rest = dict(attributes)
    iam_id = rest.pop("id", "")
    return _who(Subject(iam_id=iam_id, attributes=rest), attributes)


def crn_attributes(text: str) -> dict[str, str]:
    """A resource CRN as the attributes policies match (spec §3.5): `a/<account>` scope only."""
    crn = CRN.parse(text)
    found = {
        "serviceName": crn.service_name,
        "region": crn.location,
        "accountId": crn.account_id or "",
        "serviceInstance": crn.service_instance,
        "resourceType": crn.resource_type,
        "resource": crn.resource,
    }
    return {k: v for k, v in found.items() if v}


def _resource(value: Any, index: int) -> dict[str, str]:
    resource = _object(value, index, ("resource",))
    if "crn" not in resource:
        if "attributes" not in resource:
            raise _bad(_at(index, "resource"), "needs `attributes` or `crn`")
        return _strings(resource["attributes"], index, ("resource", "attributes"))
    text = resource["crn"]
    if not isinstance(text, str):
        raise _bad(_at(index, "resource", "crn"), "must be a string")
    try:
        attributes = crn_attributes(text)
    except CRNError as exc:
        raise _bad(_at(index, "resource", "crn"), f"is not a CRN: {exc}") from exc
    if "attributes" in resource:
        given = _strings(resource["attributes"], index, ("resource", "attributes"))
        for key, value in given.items():
            if key in attributes and attributes[key] != value:
                where = _at(index, "resource", "attributes", key)
                raise _bad(where, "disagrees with the resource's `crn`")
            attributes[key] = value
    return attributes


def _moment(value: Any, index: int) -> datetime | None:
    if value is None:
        return None
    environment = _object(value, index, ("environment",))
    attributes = _object(environment.get("attributes", {}), index, ("environment", "attributes"))
    moments: list[datetime] = []
    for key in MOMENT_KEYS:
        if key not in attributes:
            continue
        field = _at(index, "environment", "attributes", key)
        text = attributes[key]
        try:
            moment = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise _bad(field, "must be a date-time with a UTC offset, e.g. 2026-01-05T10:00:00Z")
        moments.append(moment)
    if len(moments) == 2 and moments[0] != moments[1]:
        raise _bad(_at(index, "environment", "attributes"), "names two different moments")
    return moments[0] if moments else None


def parse_requests(body: Any, *, with_action: bool, verify: Verify) -> list[Item]:
    """Read a whole batch; raise Invalid naming the first bad item and field."""
    if not isinstance(body, list):
        raise Invalid(NOT_AN_ARRAY)
    if len(body) > MAX_REQUESTS:
        raise Invalid(f"a call may carry at most {MAX_REQUESTS} requests, not {len(body)}")
    return [_item(entry, index, with_action, verify) for index, entry in enumerate(body)]


@lru_cache(maxsize=4096)
def _is_action(text: str) -> bool:
    """ACTION's verdict, remembered: a batch asks the same few actions over and over."""
    return ACTION.match(text) is not None


def _item(raw: Any, index: int, with_action: bool, verify: Verify) -> Item:
    entry = _object(raw, index)
    if "subject" not in entry:
        raise _bad(_at(index, "subject"), "is required")
    subject, echo, token_account, expires, refusal = _subject(entry["subject"], index, verify)
    action = ""
    if with_action:
        if "action" not in entry:
            raise _bad(_at(index, "action"), "is required")
        action = entry["action"]
        if not isinstance(action, str) or not _is_action(action):
            raise _bad(_at(index, "action"), "must be an action id `<service>.<noun>.<verb>`")
    if "resource" not in entry:
        raise _bad(_at(index, "resource"), "is required")
    resource = _resource(entry["resource"], index)
    if not with_action and not resource.get("serviceName"):
        raise _bad(
            _at(index, "resource", "attributes", "serviceName"),
            "is required: roles are named per service",
        )
    time = _moment(entry.get("environment"), index)
    request_id = entry.get("requestId")
    if request_id is not None and not isinstance(request_id, str | int | float):
        raise _bad(_at(index, "requestId"), "must be a string or a number")
    return Item(
        subject,
        action,
        resource,
        time,
        token_account,
        expires,
        refusal,
        request_id=request_id,
        has_request_id="requestId" in entry,
        subject_echo=echo,
    )


def _head(item: Item) -> dict[str, Any]:
    # `status` per response: IBM's clients read it (public code: mrodden/ibmcloud-iam-rs pdp.rs).
    head: dict[str, Any] = {"requestId": item.request_id} if item.has_request_id else {}
    head["status"] = "200"
    return head


def decision_out(item: Item, permitted: bool) -> dict[str, Any]:
    out = _head(item)
    out["authorizationDecision"] = {
        "permitted": permitted,
        "obligation": {
            "actions": [item.action],
            "maxCacheAgeSeconds": MAX_CACHE_AGE_SECONDS,
            "subject": {"attributes": item.subject_echo},
        },
    }
    return out


def explained_out(item: Item, decision: Decision) -> dict[str, Any]:
    """`decision_out` plus the engine's `reason` and permitting `policies` (/v2/authz/explain)."""
    out = decision_out(item, decision.permitted)
    out["reason"] = decision.reason
    out["policies"] = list(decision.policies)
    return out


def subject_id(subject: Subject) -> dict[str, str]:
    """IBM names the subject `userId` or `serviceId`; a trusted profile gets `profileId` (ours),
    a calling service (no iam_id) its `serviceName`."""
    iam_id = subject.iam_id
    if not iam_id:
        return {"serviceName": subject.attributes.get("serviceName", "")}
    if iam_id.startswith("iam-ServiceId-"):
        return {"serviceId": iam_id}
    if iam_id.startswith("iam-Profile-"):
        return {"profileId": iam_id}
    return {"userId": iam_id}


def roles_out(item: Item, grants: list[RoleGrant]) -> dict[str, Any]:
    out = _head(item)
    out["subjectId"] = subject_id(item.subject)
    out["roleActions"] = [
        {
            "role": {"crn": grant.crn, "displayName": grant.display_name},
            "actions": [{"action": action} for action in grant.actions],
        }
        for grant in grants
    ]
    return out
