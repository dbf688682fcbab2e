"""The audit record of the request being served, in a context variable.

The HTTP layer opens it (api/audit_middleware.py); what the request learns on its way fills it
in: the verified caller (api/deps.py), the resource an action was checked on (Guard.require),
the subject of a token grant (tokens/service.py). The unit of work reads it when it commits, so
a mutation's event is written in the mutation's own transaction (store/sql/uow.py).

Sync routes run in a worker thread with a copy of the context: the copy holds the same
`RequestAudit` object, so what the thread notes the middleware sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from strongroom.audit import events
from strongroom.audit.hashing import SENSITIVE
from strongroom.errors import StrongroomError

if TYPE_CHECKING:
    from strongroom.audit.writer import AuditWriter

# What of a token request's form an event keeps (the credential fields hashed by the writer).
GRANT_FIELDS = frozenset({"grant_type", "profile_id", "profile_crn", "profile_name"}) | SENSITIVE
FIELD_CHARS = 256


class Target(Protocol):
    """What an action was checked on: `authz.Resource` (kept as is; read only for the event)."""

    @property
    def account_id(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def resource_type(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def attributes(self) -> Mapping[str, str]: ...


@dataclass(slots=True)
class RequestAudit:
    method: str
    path: str
    address: str | None
    correlation_id: str
    request_id: str
    now: Callable[[], datetime]
    fail_closed: bool = True
    action: str | None = None  # the route's declared action, or a token grant's
    checked_action: str | None = None  # as the policy engine was asked (hs-crypto on HPCS)
    success_status: int = 200  # the route's declared status: a committed mutation's reason
    initiator_id: str | None = None
    initiator_kind: str | None = None  # the token's sub_type: "ServiceId", "Profile" or None
    account_id: str | None = None
    credential: str = "none"
    target: Target | None = None
    writer: AuditWriter | None = None  # where its event goes (audit/writer.py)
    # The credential the caller presented (a bearer token) and a token request's fields: kept
    # for the event, which stores them only as salted hashes (audit/hashing.py; A3 c).
    credential_value: str | None = None
    request_data: dict[str, str] | None = None
    written: bool = False  # its one event is stored
    failed: bool = False  # storing it failed

    def note_caller(self, iam_id: str, account_id: str, sub_type: str | None) -> None:
        self.initiator_id, self.account_id, self.initiator_kind = iam_id, account_id, sub_type
        if self.credential == "none":
            self.credential = "token"

    def note_target(self, action: str, target: Target) -> None:
        """The declared action as checked (`hs-crypto.` on HPCS) and its resource. A second
        action a use case also checks (an invitation's `policies.create`) names no event."""
        declared = self.action
        if declared is None or action.partition(".")[2] == declared.partition(".")[2]:
            self.checked_action, self.target = action, target

    def final_action(self) -> str | None:
        return self.checked_action or self.action

    def wants_commit_event(self) -> bool:
        """A committed write carries the event of an audited call not yet recorded."""
        action = self.final_action()
        return (
            not self.written
            and action is not None
            and events.audited(self.method, self.path, action)
        )

    def event(self, status: int) -> tuple[str, datetime, dict[str, Any]]:
        """(the account whose chain holds it, its time, the event). Unauthenticated calls that
        name no resource go to the server's own chain, account ""."""
        now = self.now()
        action = self.final_action() or events.UNKNOWN_GRANT_ACTION
        target = self.target
        account = self.account_id or (target.account_id if target else "") or ""
        service = action.partition(".")[0]
        if target is not None:
            target_id = events.crn(
                target.account_id,
                target.service_name,
                instance=target.attributes.get("serviceInstance", ""),
                resource_type=target.resource_type,
                resource=target.resource,
            )
        else:
            target_id = events.crn(account, service)
        return (
            account,
            now,
            events.build(
                action=action,
                status=status,
                now=now,
                initiator_id=self.initiator_id,
                initiator_kind=self.initiator_kind,
                credential=self.credential,
                address=self.address,
                target_id=target_id,
                correlation_id=self.correlation_id,
                request_id=self.request_id,
                method=self.method,
                path=self.path,
                credential_value=self.credential_value,
                request_data=self.request_data,
            ),
        )


current: ContextVar[RequestAudit | None] = ContextVar("strongroom_audit", default=None)


def active() -> RequestAudit | None:
    return current.get()


def note_caller(iam_id: str, account_id: str, sub_type: str | None) -> None:
    record = current.get()
    if record is not None:
        record.note_caller(iam_id, account_id, sub_type)


def note_grant(action: str, credential: str, form: Mapping[str, str] | None = None) -> None:
    """A token exchange: the grant names the action and the kind of credential presented; the
    form's grant fields are kept for the event (credentials hashed when it is stored)."""
    record = current.get()
    if record is not None:
        record.action, record.credential = action, credential
        if form:
            # Credentials are hashed whatever their length; the rest is the caller's text, cut.
            record.request_data = {
                k: v if k.lower() in SENSITIVE else v[:FIELD_CHARS]
                for k, v in form.items()
                if k.lower() in GRANT_FIELDS
            }


def note_presented(field: str, value: str) -> None:
    """A credential sent other than as a bearer token (`IAM-ApiKey`): kept for the event under
    `requestData.<field>`, hashed when stored (`field` must be one of hashing.SENSITIVE)."""
    record = current.get()
    if record is not None and field in SENSITIVE:
        record.request_data = {**(record.request_data or {}), field: value}


def note_credential(value: str) -> None:
    """The bearer token presented, kept for its event as a salted hash (never as it is)."""
    record = current.get()
    if record is not None:
        record.credential_value = value


def note_refusal(status: int) -> None:
    """A use case that commits and then refuses (a reused refresh token revokes its family,
    then answers 400): the committed event says so."""
    record = current.get()
    if record is not None:
        record.success_status = status


class AuditUnavailable(StrongroomError):
    """The event could not be stored and the trail fails closed (reliability.md A3 b): the call
    answers 503 and its transaction rolls back."""

    code = "audit_unavailable"
