"""What the HTTP layer is given by bootstrap: the services, the authorizer and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.access.decisions import DecisionPoint
from strongroom.access.policies import PolicyService
from strongroom.access.roles import RoleService
from strongroom.authz import Authorizer
from strongroom.config import Settings
from strongroom.identity.account_settings import AccountSettingsService
from strongroom.identity.service import IdentityService
from strongroom.identity.users import UserService
from strongroom.tokens.service import TokenService


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    identity: IdentityService
    tokens: TokenService
    authorizer: Authorizer
    decisions: DecisionPoint  # the decision point services call (/v2/authz); holds the clock
    policies: PolicyService  # Policy Management: /v1/policies, /v2/policies
    roles: RoleService  # Policy Management: /v2/roles
    # branch `users`
    users: UserService  # User Management: /v2/accounts/{id}/users, /v2/users/accept
    account_settings: AccountSettingsService  # /v1/accounts/{id}/settings/identity
