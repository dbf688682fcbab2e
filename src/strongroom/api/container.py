"""What the HTTP layer is given by bootstrap: the services, the authorizer and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.authz import Authorizer
from strongroom.config import Settings
from strongroom.identity.service import IdentityService
from strongroom.tokens.service import TokenService


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    identity: IdentityService
    tokens: TokenService
    authorizer: Authorizer
