"""What the HTTP layer is given by bootstrap: the services, the authorizer and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.access.decisions import DecisionPoint
from strongroom.access.groups import GroupService
from strongroom.access.policies import PolicyService
from strongroom.access.roles import RoleService
from strongroom.access.settings import AccessSettingsService
from strongroom.audit.service import AuditService
from strongroom.authz import Authorizer
from strongroom.clock import Clock
from strongroom.config import Settings
from strongroom.identity.account_settings import AccountSettingsService
from strongroom.identity.key_checks import KeyChecks
from strongroom.identity.profile_parts import ProfilePartService
from strongroom.identity.profiles import ProfileService
from strongroom.identity.service import IdentityService
from strongroom.identity.users import UserService
from strongroom.kms.aliases import AliasService
from strongroom.kms.import_tokens import ImportTokenService
from strongroom.kms.key_rings import KeyRingService
from strongroom.kms.keys import KmsKeyService
from strongroom.kms.policies import KmsPolicyService
from strongroom.kms.registrations import RegistrationService
from strongroom.kms.sweep import KmsSweep
from strongroom.kms.wrapping import WrapService
from strongroom.ratelimit import RateLimiter
from strongroom.resources.account_groups import AccountGroupService
from strongroom.resources.enterprises import EnterpriseService
from strongroom.resources.groups import ResourceGroupService
from strongroom.resources.instances import InstanceService
from strongroom.resources.keys import KeyService
from strongroom.resources.reclamations import ReclamationService
from strongroom.tokens.profile_grants import ProfileGrants
from strongroom.tokens.service import TokenService


@dataclass(frozen=True, slots=True)
class Container:
    settings: Settings
    identity: IdentityService
    tokens: TokenService
    # Abuse resistance (reliability.md T4): API key values are checked through key_checks (the
    # lockout and the per-key rate); the token endpoint and key checks spend from source_limits.
    key_checks: KeyChecks
    source_limits: RateLimiter
    authorizer: Authorizer
    decisions: DecisionPoint  # the decision point services call (/v2/authz); holds the clock
    policies: PolicyService  # Policy Management: /v1/policies, /v2/policies
    roles: RoleService  # Policy Management: /v2/roles
    access_settings: AccessSettingsService  # /v1/accounts/{id}/settings/access_management
    # -- trusted profiles (spec §4.3, §3.1) --
    profiles: ProfileService  # /v1/profiles
    profile_parts: ProfilePartService  # /v1/profiles/{id}/rules, /links, /identities
    profile_grants: ProfileGrants  # the assume and cr-token grants of /identity/token
    # IAM Access Groups: /v2/groups
    groups: GroupService
    # Users and User Management, identity account settings
    users: UserService  # User Management: /v2/accounts/{id}/users, /v2/users/accept
    account_settings: AccountSettingsService  # /v1/accounts/{id}/settings/identity
    # Enterprise Management (spec §9): /v1/enterprises, /v1/accounts, /v1/account-groups
    enterprises: EnterpriseService
    account_groups: AccountGroupService
    # Resource Manager (spec §7)
    resource_groups: ResourceGroupService  # /v2/resource_groups, /v2/quota_definitions
    # Resource Controller (spec §8)
    instances: InstanceService  # /v2/resource_instances
    keys: KeyService  # /v2/resource_keys
    reclamations: ReclamationService  # /v1/reclamations
    # Key management (spec kms-api.md): /api/v2/keys...
    kms_clock: Clock  # the timing rules' clock (bootstrap.build: tests move it alone)
    kms_keys: KmsKeyService
    kms_wrap: WrapService
    kms_import_tokens: ImportTokenService  # /api/v2/import_token
    kms_rings: KeyRingService  # /api/v2/key_rings
    kms_aliases: AliasService  # /api/v2/keys/{id}/aliases
    kms_registrations: RegistrationService  # /api/v2/keys/.../registrations, /api/v2/event_ack
    kms_policies: KmsPolicyService  # /api/v2/keys/{id}/policies, /api/v2/instance/...
    kms_sweep: KmsSweep  # automatic rotation, expiry and purge (Runtime.start_background)
    # The audit trail (reliability.md A3): /v1/audit/..., and the middleware's writes
    audit: AuditService
