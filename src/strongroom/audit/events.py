"""The CADF event IBM Activity Tracker emits, built from what a request is known to have done
(reliability.md §1 "IBM Activity Tracker (CADF)", A3). Pure: no HTTP, no storage.

Never a body, nor an API key, a token or key material as it is: an event holds the caller's id
and address, the action, the resource it touched and the status the call ended with; the
credential the caller presented is kept only as a salted hash (audit/hashing.py, A3 c).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

OBSERVER = "ActivityTracker"
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A read-only decision query, though sent by POST: only its denials are audited (docs).
READ_ONLY_POSTS = ("/v2/authz",)
# reliability.md §1: IBM's severities by status, then by what the action does.
CRITICAL_STATUS = frozenset({401, 403, 503, 507})
WARNING_STATUS = frozenset({400, 409, 424, 500, 502, 504, 505})
# "Security-affecting actions such as credential changes and deletes are critical."
CRITICAL_VERBS = frozenset(
    {"delete", "remove", "purge", "setkeyfordeletion", "rotate", "deletealias", "lock", "unlock"}
)
CREDENTIAL_OBJECTS = ("apikey",)
NOT_CHANGES = frozenset({"login", "read", "list"})  # a login with an API key changes nothing
# Key Protect's data events: what touches key material (wrap, unwrap, rewrap, payload reads).
DATA_VERBS = frozenset({"secrets.wrap", "secrets.unwrap", "secrets.rewrap", "secrets.read"})
KMS_SERVICES = ("kms", "hs-crypto")
# Token exchanges are public routes without a declared IAM action: the grant names the event.
GRANT_ACTIONS = {
    "urn:ibm:params:oauth:grant-type:apikey": "iam-identity.apikey.login",
    "refresh_token": "iam-identity.token.refresh",
    "urn:ibm:params:oauth:grant-type:assume": "iam-identity.profile.login",
    "urn:ibm:params:oauth:grant-type:cr-token": "iam-identity.profile.login",
}
UNKNOWN_GRANT_ACTION = "iam-identity.token.create"  # a grant we do not know, refused
GRANT_CREDENTIALS = {
    "urn:ibm:params:oauth:grant-type:apikey": "apikey",
    "refresh_token": "refresh-token",
    "urn:ibm:params:oauth:grant-type:assume": "token",
    "urn:ibm:params:oauth:grant-type:cr-token": "cr-token",
}
TOKEN_PATHS = frozenset({"/identity/token", "/oidc/token"})
INITIATOR_TYPES = {
    "ServiceId": "service/security/account/serviceid",
    "Profile": "service/security/account/profile",
}
USER_TYPE = "service/security/account/user"
# What the service does on its own (the KMS sweep, kms/sweep.py): CADF's resource taxonomy names
# a key manager `service/security/keymanager`; the initiator's id names the task.
SERVICE_TYPE = "service/security/keymanager"
SERVICE_CREDENTIAL = "internal"
UNKNOWN_TYPE = "service/security/unknown"


def is_data_event(action: str) -> bool:
    service, _, rest = action.partition(".")
    return service in KMS_SERVICES and rest in DATA_VERBS


def audited(method: str, path: str, action: str | None) -> bool:
    """Whether a call is audited whatever its answer: mutations (token exchanges included) and
    key operations. A call no route took (no action) is not; other calls are audited only when
    refused with 401 or 403."""
    if action is None:
        return method == "POST" and path in TOKEN_PATHS
    if is_data_event(action):
        return True
    return method in MUTATING_METHODS and not path.startswith(READ_ONLY_POSTS)


def severity(action: str, status: int) -> str:
    if status in CRITICAL_STATUS:
        return "critical"
    if status in WARNING_STATUS:
        return "warning"
    _service, _, rest = action.partition(".")
    noun, _, verb = rest.rpartition(".")
    credential = verb not in NOT_CHANGES and any(c in noun for c in CREDENTIAL_OBJECTS)
    if status < 400 and (verb in CRITICAL_VERBS or credential):
        return "critical"
    return "normal"


def event_time(now: datetime) -> str:
    """UTC with milliseconds, as Activity Tracker writes it."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _reason_type(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def build(
    *,
    action: str,
    status: int,
    now: datetime,
    initiator_id: str | None,
    initiator_kind: str | None,
    credential: str,
    address: str | None,
    target_id: str,
    correlation_id: str,
    request_id: str,
    method: str,
    path: str,
    credential_value: str | None = None,
    request_data: Mapping[str, str] | None = None,
    initiator_type: str | None = None,
) -> dict[str, Any]:
    """`credential_value` and sensitive `request_data` members are stored hashed (the writer's
    audit/hashing.py); `initiator_type` overrides the one the caller's kind gives."""
    service, _, rest = action.partition(".")
    noun = rest.rpartition(".")[0]
    outcome = "success" if status < 400 else "failure"
    kind = initiator_type or (
        UNKNOWN_TYPE
        if initiator_id is None
        else INITIATOR_TYPES.get(initiator_kind or "", USER_TYPE)
    )
    presented: dict[str, Any] = {"type": credential}
    if credential_value:
        presented["token"] = credential_value
    event: dict[str, Any] = {
        "action": action,
        "outcome": outcome,
        "reason": {"reasonCode": status, "reasonType": _reason_type(status)},
        "severity": severity(action, status),
        "eventTime": event_time(now),
        "correlationId": correlation_id,
        "requestId": request_id,
        "dataEvent": is_data_event(action),
        "initiator": {
            "id": initiator_id or "unknown",
            "typeURI": kind,
            "credential": presented,
            "host": {"address": address or "unknown"},
        },
        "target": {"id": target_id, "typeURI": f"{service}/{noun}", "name": f"{method} {path}"},
        "observer": {"name": OBSERVER},
        "message": f"{service}: {action.rpartition('.')[2]} {noun} {outcome}",
    }
    if request_data:
        event["requestData"] = dict(request_data)
    return event


def crn(
    account_id: str | None,
    service: str,
    *,
    instance: str = "",
    resource_type: str = "",
    resource: str = "",
) -> str:
    """The target's CRN (the resource the call was authorized on, else the account's service)."""
    scope = f"a/{account_id}" if account_id else ""
    return f"crn:v1:bluemix:public:{service}:global:{scope}:{instance}:{resource_type}:{resource}"


def service_event(
    *,
    action: str,
    now: datetime,
    initiator_id: str,
    target_id: str,
    correlation_id: str,
) -> dict[str, Any]:
    """An event for a change the service made itself (no caller, no HTTP request)."""
    return build(
        action=action,
        status=200,
        now=now,
        initiator_id=initiator_id,
        initiator_kind=None,
        credential=SERVICE_CREDENTIAL,
        address=None,
        target_id=target_id,
        correlation_id=correlation_id,
        request_id=correlation_id,
        method="TASK",
        path=initiator_id,
        initiator_type=SERVICE_TYPE,
    )
