"""IAM Identity bodies and responses (spec §4.1, §4.2), field names exactly as the SDK sends them.

Unknown body fields are ignored (newer SDKs may send more); wrong types and missing required
fields are refused with a 400 that names the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from strongroom.identity.models import ApiKey, HistoryRecord, LeakAction, ServiceId
from strongroom.identity.requests import ApiKeyChanges, NewApiKey, ServiceIdChanges

LeakActionName = Literal["none", "disable", "delete"]


def ibm_time(value: datetime) -> str:
    """IAM Identity's timestamp style: minute precision, numeric offset (spec §2.5)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M%z")


def parse_time(value: str | None, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{field} must be a time like 2030-01-02T18:30+0000") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _no_nul(value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if isinstance(value, list):
        for item in value:
            _no_nul(item)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    @model_validator(mode="after")
    def _refuse_nul(self) -> Self:
        # PostgreSQL text cannot hold NUL; refusing it for every backend keeps them alike.
        for name in type(self).model_fields:
            _no_nul(getattr(self, name))
        return self


class CreateApiKeyBody(_Body):
    name: str
    iam_id: str
    description: str | None = None
    account_id: str | None = None
    apikey: str | None = None
    store_value: bool | None = None
    support_sessions: bool | None = None
    action_when_leaked: LeakActionName | None = None
    expires_at: str | None = None

    @field_validator("expires_at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        parse_time(value, "expires_at")
        return value

    def spec(self, *, locked: bool, disabled: bool) -> NewApiKey:
        return NewApiKey(
            name=self.name,
            description=self.description or "",
            value=self.apikey,
            store_value=bool(self.store_value),
            support_sessions=bool(self.support_sessions),
            action_when_leaked=_leak(self.action_when_leaked),
            expires_at=parse_time(self.expires_at, "expires_at"),
            locked=locked,
            disabled=disabled,
        )


class UpdateApiKeyBody(_Body):
    name: str | None = None
    description: str | None = None
    support_sessions: bool | None = None
    action_when_leaked: LeakActionName | None = None
    expires_at: str | None = None

    @field_validator("expires_at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        parse_time(value, "expires_at")
        return value

    def changes(self) -> ApiKeyChanges:
        return ApiKeyChanges(
            name=self.name,
            description=self.description,
            support_sessions=self.support_sessions,
            action_when_leaked=_leak(self.action_when_leaked) if self.action_when_leaked else None,
            expires_at=parse_time(self.expires_at, "expires_at"),
        )


class ServiceIdApiKeyBody(_Body):
    """`ApiKeyInsideCreateServiceIdRequest`."""

    name: str
    description: str | None = None
    apikey: str | None = None
    store_value: bool | None = None
    action_when_leaked: LeakActionName | None = None
    expires_at: str | None = None

    @field_validator("expires_at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        parse_time(value, "expires_at")
        return value

    def spec(self) -> NewApiKey:
        return NewApiKey(
            name=self.name,
            description=self.description or "",
            value=self.apikey,
            store_value=bool(self.store_value),
            action_when_leaked=_leak(self.action_when_leaked),
            expires_at=parse_time(self.expires_at, "expires_at"),
        )


class CreateServiceIdBody(_Body):
    account_id: str
    name: str
    description: str | None = None
    unique_instance_crns: list[str] | None = None
    group_id: str | None = None
    apikey: ServiceIdApiKeyBody | None = None


class UpdateServiceIdBody(_Body):
    name: str | None = None
    description: str | None = None
    unique_instance_crns: list[str] | None = None

    def changes(self) -> ServiceIdChanges:
        crns = tuple(self.unique_instance_crns) if self.unique_instance_crns is not None else None
        return ServiceIdChanges(
            name=self.name, description=self.description, unique_instance_crns=crns
        )


def _leak(value: str | None) -> LeakAction:
    return LeakAction(value) if value else LeakAction.DISABLE


def history_out(history: tuple[HistoryRecord, ...]) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": ibm_time(r.timestamp),
            "iam_id": r.iam_id,
            "iam_id_account": r.iam_id_account,
            "action": r.action,
            "params": list(r.params),
            "message": r.message,
        }
        for r in history
    ]


def api_key_out(
    key: ApiKey, *, value: str | None = None, include_history: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "entity_tag": key.meta.entity_tag,
        "crn": key.crn,
        "locked": key.locked,
        "disabled": key.disabled,
        "leaked": key.leaked,
        "created_at": ibm_time(key.meta.created_at),
        "created_by": key.meta.created_by,
        "modified_at": ibm_time(key.meta.modified_at),
        "name": key.name,
        "support_sessions": key.support_sessions,
        "action_when_leaked": key.action_when_leaked.value,
        "description": key.description,
        "iam_id": key.iam_id,
        "account_id": key.account_id,
    }
    if key.expires_at is not None:
        body["expires_at"] = ibm_time(key.expires_at)
    if value is not None:
        body["apikey"] = value
    if include_history:
        body["history"] = history_out(key.meta.history)
    return body


def service_id_out(
    sid: ServiceId, *, apikey: dict[str, Any] | None = None, include_history: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sid.id,
        "iam_id": sid.iam_id,
        "entity_tag": sid.meta.entity_tag,
        "crn": sid.crn,
        "locked": sid.locked,
        "created_at": ibm_time(sid.meta.created_at),
        "modified_at": ibm_time(sid.meta.modified_at),
        "account_id": sid.account_id,
        "name": sid.name,
        "description": sid.description,
        "unique_instance_crns": list(sid.unique_instance_crns),
    }
    if apikey is not None:
        body["apikey"] = apikey
    if include_history:
        body["history"] = history_out(sid.meta.history)
    return body
