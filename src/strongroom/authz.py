"""The Authorizer seam: every route's declared IAM action is checked here, against a resource.

Call sites hold a `Guard` (principal + the route's action + an Authorizer) and call
`guard.require(resource)` once they know which resource is touched. Which Authorizer sits
behind the guard is chosen in `bootstrap`; call sites do not change when it does.

`AccountScopeAuthorizer` is the rule until the policy engine lands (issue: policy engine):
a caller may act only inside its own account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from strongroom.errors import Forbidden, NotFound
from strongroom.tokens.claims import Principal


@dataclass(frozen=True, slots=True)
class Resource:
    """What an action is done to, as the policy engine matches it (service, type, id, account)."""

    account_id: str
    service_name: str
    resource_type: str = ""
    resource: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


class Authorizer(Protocol):
    def is_permitted(self, principal: Principal, action: str, resource: Resource) -> bool: ...


class AccountScopeAuthorizer:
    """A caller may do anything inside its own account and nothing outside it."""

    def is_permitted(self, principal: Principal, action: str, resource: Resource) -> bool:
        return principal.account_id == resource.account_id


class Guard:
    """One route's authorization: who is calling, with which declared action."""

    def __init__(self, principal: Principal, action: str, authorizer: Authorizer) -> None:
        self.principal = principal
        self.action = action
        self._authorizer = authorizer

    def require(self, resource: Resource, *, missing: NotFound | None = None) -> None:
        """Raise unless permitted. An object addressed by id in another account answers exactly
        as a missing one would (`missing`), so existence elsewhere is never disclosed."""
        if self._authorizer.is_permitted(self.principal, self.action, resource):
            return
        if missing is not None and resource.account_id != self.principal.account_id:
            raise missing
        raise Forbidden(
            f"`{self.principal.iam_id}` is not permitted to perform `{self.action}`"
            f" in account `{resource.account_id}`"
        )
