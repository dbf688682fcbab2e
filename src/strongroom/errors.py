"""Domain errors. They know nothing of HTTP: `api/errors.py` is the one place that maps them.

Messages are lowercase sentences without a final period; user input stands in backticks.
"""

from __future__ import annotations


class StrongroomError(Exception):
    """Base of every error a caller can cause. `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            # A more specific code an API family documents, e.g. Policy Management's
            # `policy_not_found` or `role_conflict_error` (spec §2.7). Still no HTTP here.
            self.code = code


class Invalid(StrongroomError):
    """The request is malformed or breaks a rule about its own content."""

    code = "invalid_request"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class NotFound(StrongroomError):
    """The object does not exist, or exists where the caller may not see it (same answer)."""

    code = "not_found"

    def __init__(self, kind: str, ident: str, *, code: str | None = None) -> None:
        super().__init__(f"{kind} `{ident}` not found", code=code)
        self.kind = kind
        self.ident = ident


class Conflict(StrongroomError):
    code = "conflict"


class Locked(Conflict):
    """A locked object refuses update and delete until it is unlocked (spec §4.1, §4.2)."""

    code = "entity_locked"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} `{ident}` is locked; unlock it before changing or deleting it")


class QuotaExceeded(StrongroomError):
    """An account limit is reached (reliability.md §4, IBM's limits table): nothing is created."""

    code = "quota_exceeded"


class PreconditionFailed(StrongroomError):
    """If-Match named a version that is no longer current."""

    code = "entity_tag_mismatch"


class PreconditionRequired(StrongroomError):
    """An update arrived without If-Match."""

    code = "missing_if_match"


class Unauthenticated(StrongroomError):
    code = "invalid_token"


class Forbidden(StrongroomError):
    code = "insufficient_permissions"


class TokenGrantError(StrongroomError):
    """A token request that IAM refuses; carries IBM's BXNIM error code (spec §1 fact 1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConfigurationError(StrongroomError):
    """The server cannot start as configured."""

    code = "configuration_error"


class TooManyRequests(StrongroomError):
    """A caller went over a request rate (reliability.md T4): try again after `retry_after` s."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
