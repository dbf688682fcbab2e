"""Tenant isolation (reliability.md C2; OWASP API1/API5, ASVS V8.2.2, V8.4.1).

A random world of several accounts is built through the HTTP API (isolation_world.py). The owner
of one account, the strongest principal it has, then calls every route the app serves, walked
from its OpenAPI document so a new route is covered (or fails the test until it is classified
here), with the ids, account ids, CRNs and `Bluemix-Instance` of ANOTHER account, and again with
guessed ids of the same shape. Checked:

* 0 permits: no 2xx on a foreign object (nothing of the other account is read or changed);
* "exists elsewhere" answers exactly like "does not exist": the same status and a byte-identical
  body once per-request trace ids and the ids sent are masked;
* no answer names any other id of the other account;
* 0 foreign rows: every list route, asked by each owner about its own account, holds no id of
  any other account;
* afterwards every account's objects read back exactly as before.

Default: one exhaustive pass of every route x verb plus random attempts up to 2,000 requests.
STRONGROOM_HEAVY=1: 10,000.
"""

# ruff: noqa: E501  (the route table reads one route a line)
from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from strongroom.api.actions import PUBLIC_KEY
from strongroom.testing.server import LiveServer
from tests.reliability import HEAVY
from tests.reliability.isolation_world import (
    GROUP_RULE,
    KEY_TYPE,
    KMS_PLAN,
    PROFILE_RULE,
    Tenant,
    _policy_v1,
    _policy_v2,
    new_tenant,
)

ATTEMPTS = 10_000 if HEAVY else 2_000
ACCOUNTS = 4
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"


@dataclass
class Call:
    """A request aimed at a victim's objects."""

    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


Build = Callable[[Tenant], Call]


def _kms(call: Call, v: Tenant) -> Call:
    call.headers["Bluemix-Instance"] = v.ids["instance"]
    return call


def _envelope(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"collectionType": kind, "collectionTotal": 1}, "resources": [resource]}


def _registration_crn(v: Tenant) -> str:
    crn = f"crn:v1:bluemix:public:cloud-object-storage:global:a/{v.account}:{v.ids['instance']}:bucket:b"
    return quote(crn, safe="")


def _routes() -> dict[str, Build | str]:
    """Every operation: how to aim it at a victim, or why it has no tenant to cross."""
    k = "/api/v2/keys/{id}"
    key = lambda suffix="": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}{suffix}"), v)  # noqa: E731
    routes: dict[str, Build | str] = {
        # Public: the token service, its keys and discovery, health (no tenant data).
        "POST /identity/token": "public",
        "POST /oidc/token": "public",
        "GET /identity/keys": "public",
        "GET /oidc/jwks": "public",
        "GET /identity/.well-known/openid-configuration": "public",
        "GET /healthz": "public",
        # Global catalogs, the same for every account.
        "GET /v2/quota_definitions": "global catalog",
        "GET /v2/quota_definitions/{id}": "global catalog",
        # Authenticates by the secret itself: holding another account's key IS being it.
        "GET /v1/apikeys/details": "authenticates with the key's own value",
        # The decision point, asked about the victim's account.
        "POST /v2/authz": lambda v: Call("/v2/authz", body=[{
            "subject": {"attributes": {"id": v.ids["sid_iam"]}}, "action": "kms.secrets.read",
            "resource": {"attributes": {"accountId": v.account, "serviceName": "kms"}}}]),
        "POST /v2/authz/explain": lambda v: Call("/v2/authz/explain", body=[{
            "subject": {"attributes": {"id": v.ids["sid_iam"]}}, "action": "kms.secrets.read",
            "resource": {"attributes": {"accountId": v.account, "serviceName": "kms"}}}]),
        "POST /v2/authz/roles": lambda v: Call("/v2/authz/roles", body=[{
            "subject": {"attributes": {"id": v.ids["sid_iam"]}},
            "resource": {"attributes": {"accountId": v.account, "serviceName": "kms"}}}]),
        # API keys.
        "POST /v1/apikeys": lambda v: Call("/v1/apikeys", body={"name": "x", "iam_id": v.ids["sid_iam"]}),
        "GET /v1/apikeys": lambda v: Call("/v1/apikeys", params={"account_id": v.account, "iam_id": v.ids["sid_iam"]}),
        "GET /v1/apikeys/{id}": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}"),
        "PUT /v1/apikeys/{id}": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}", headers={"If-Match": "*"}, body={"name": "x"}),
        "DELETE /v1/apikeys/{id}": lambda v: Call(f"/v1/apikeys/{v.ids['user_apikey']}"),
        "POST /v1/apikeys/{id}/lock": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}/lock"),
        "DELETE /v1/apikeys/{id}/lock": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}/lock"),
        "POST /v1/apikeys/{id}/disable": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}/disable"),
        "DELETE /v1/apikeys/{id}/disable": lambda v: Call(f"/v1/apikeys/{v.ids['apikey']}/disable"),
        # Service IDs.
        "POST /v1/serviceids/": lambda v: Call("/v1/serviceids/", body={"account_id": v.account, "name": "x"}),
        "GET /v1/serviceids/": lambda v: Call("/v1/serviceids/", params={"account_id": v.account}),
        "GET /v1/serviceids/{id}": lambda v: Call(f"/v1/serviceids/{v.ids['sid']}"),
        "PUT /v1/serviceids/{id}": lambda v: Call(f"/v1/serviceids/{v.ids['sid']}", headers={"If-Match": "*"}, body={"name": "x"}),
        "DELETE /v1/serviceids/{id}": lambda v: Call(f"/v1/serviceids/{v.ids['sid']}"),
        "POST /v1/serviceids/{id}/lock": lambda v: Call(f"/v1/serviceids/{v.ids['sid']}/lock"),
        "DELETE /v1/serviceids/{id}/lock": lambda v: Call(f"/v1/serviceids/{v.ids['sid']}/lock"),
        # Trusted profiles.
        "POST /v1/profiles": lambda v: Call("/v1/profiles", body={"account_id": v.account, "name": "x"}),
        "GET /v1/profiles": lambda v: Call("/v1/profiles", params={"account_id": v.account}),
        "GET /v1/profiles/{profile_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}"),
        "PUT /v1/profiles/{profile_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}", headers={"If-Match": "*"}, body={"name": "x"}),
        "DELETE /v1/profiles/{profile_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}"),
        "POST /v1/profiles/{profile_id}/rules": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/rules", body=PROFILE_RULE),
        "GET /v1/profiles/{profile_id}/rules": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/rules"),
        "GET /v1/profiles/{profile_id}/rules/{rule_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/rules/{v.ids['profile_rule']}"),
        "PUT /v1/profiles/{profile_id}/rules/{rule_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/rules/{v.ids['profile_rule']}", headers={"If-Match": "*"}, body=PROFILE_RULE),
        "DELETE /v1/profiles/{profile_id}/rules/{rule_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/rules/{v.ids['profile_rule']}"),
        "POST /v1/profiles/{profile_id}/links": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/links", body={"cr_type": "VSI", "link": {"crn": f"crn:v1:bluemix:public:is:us-south:a/{v.account}::instance:x"}}),
        "GET /v1/profiles/{profile_id}/links": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/links"),
        "DELETE /v1/profiles/{profile_id}/links": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/links", params={"type": "VSI", "crn": f"crn:v1:bluemix:public:is:us-south:a/{v.account}::instance:x"}),
        "GET /v1/profiles/{profile_id}/links/{link_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/links/{v.ids['profile_link']}"),
        "DELETE /v1/profiles/{profile_id}/links/{link_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/links/{v.ids['profile_link']}"),
        "GET /v1/profiles/{profile_id}/identities": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/identities"),
        "PUT /v1/profiles/{profile_id}/identities": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/identities", headers={"If-Match": "*"}, body={"identities": [{"identifier": v.ids["user"], "type": "user"}]}),
        "POST /v1/profiles/{profile_id}/identities/{identity_type}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/identities/user", body={"identifier": v.ids["user"], "type": "user"}),
        "GET /v1/profiles/{profile_id}/identities/{identity_type}/{identifier_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/identities/user/{v.ids['user']}"),
        "DELETE /v1/profiles/{profile_id}/identities/{identity_type}/{identifier_id}": lambda v: Call(f"/v1/profiles/{v.ids['profile']}/identities/user/{v.ids['user']}"),
        # Templates (lists by account).
        "GET /v1/profile_templates": lambda v: Call("/v1/profile_templates", params={"account_id": v.account}),
        "GET /v1/account_settings_templates": lambda v: Call("/v1/account_settings_templates", params={"account_id": v.account}),
        "GET /v1/policy_templates": lambda v: Call("/v1/policy_templates", params={"account_id": v.account}),
        # Policies.
        "GET /v1/policies": lambda v: Call("/v1/policies", params={"account_id": v.account}),
        "POST /v1/policies": lambda v: Call("/v1/policies", body=_policy_v1(v.account, v.ids["sid_iam"])),
        "GET /v1/policies/{policy_id}": lambda v: Call(f"/v1/policies/{v.ids['policy_v1']}"),
        "PUT /v1/policies/{policy_id}": lambda v: Call(f"/v1/policies/{v.ids['policy_v1']}", headers={"If-Match": "*"}, body=_policy_v1(v.account, v.ids["sid_iam"])),
        "PATCH /v1/policies/{policy_id}": lambda v: Call(f"/v1/policies/{v.ids['policy_v1']}", headers={"If-Match": "*"}, body={"state": "deleted"}),
        "DELETE /v1/policies/{policy_id}": lambda v: Call(f"/v1/policies/{v.ids['policy_v1']}"),
        "GET /v2/policies": lambda v: Call("/v2/policies", params={"account_id": v.account}),
        "POST /v2/policies": lambda v: Call("/v2/policies", body=_policy_v2(v.account, v.ids["sid_iam"])),
        "GET /v2/policies/{id}": lambda v: Call(f"/v2/policies/{v.ids['policy_v2']}"),
        "PUT /v2/policies/{id}": lambda v: Call(f"/v2/policies/{v.ids['policy_v2']}", headers={"If-Match": "*"}, body=_policy_v2(v.account, v.ids["sid_iam"])),
        "DELETE /v2/policies/{id}": lambda v: Call(f"/v2/policies/{v.ids['policy_v2']}"),
        # Custom roles.
        "GET /v2/roles": lambda v: Call("/v2/roles", params={"account_id": v.account}),
        "POST /v2/roles": lambda v: Call("/v2/roles", body={"name": "Stolen", "account_id": v.account, "service_name": "iam-groups", "display_name": "x", "actions": ["iam-groups.groups.read"]}),
        "GET /v2/roles/{role_id}": lambda v: Call(f"/v2/roles/{v.ids['role']}"),
        "PUT /v2/roles/{role_id}": lambda v: Call(f"/v2/roles/{v.ids['role']}", headers={"If-Match": "*"}, body={"display_name": "x", "actions": ["iam-groups.groups.read"]}),
        "DELETE /v2/roles/{role_id}": lambda v: Call(f"/v2/roles/{v.ids['role']}"),
        # Account settings.
        "GET /v1/accounts/{account_id}/settings/access_management": lambda v: Call(f"/v1/accounts/{v.account}/settings/access_management"),
        "PATCH /v1/accounts/{account_id}/settings/access_management": lambda v: Call(f"/v1/accounts/{v.account}/settings/access_management", headers={"If-Match": "*"}, body={"external_account_identity_interaction": {"identity_types": {"user": {"state": "monitor"}}}}),
        "GET /v1/accounts/{account_id}/settings/identity": lambda v: Call(f"/v1/accounts/{v.account}/settings/identity"),
        "PUT /v1/accounts/{account_id}/settings/identity": lambda v: Call(f"/v1/accounts/{v.account}/settings/identity", headers={"If-Match": "*"}, body={"restrict_create_service_id": "RESTRICTED"}),
        "GET /v1/accounts/{account_id}/effective_settings/identity": lambda v: Call(f"/v1/accounts/{v.account}/effective_settings/identity"),
        # Access groups.
        "GET /v2/groups/settings": lambda v: Call("/v2/groups/settings", params={"account_id": v.account}),
        "PATCH /v2/groups/settings": lambda v: Call("/v2/groups/settings", params={"account_id": v.account}, body={"public_access_enabled": False}),
        "PUT /v2/groups/_allgroups/members/{iam_id}": lambda v: Call(f"/v2/groups/_allgroups/members/{v.ids['sid_iam']}", params={"account_id": v.account}, body={"type": "service", "groups": [v.ids["group"]]}),
        "DELETE /v2/groups/_allgroups/members/{iam_id}": lambda v: Call(f"/v2/groups/_allgroups/members/{v.ids['sid_iam']}", params={"account_id": v.account}),
        "POST /v2/groups/_federated_logins": lambda v: Call("/v2/groups/_federated_logins", params={"account_id": v.account}, body={"iam_id": v.ids["user"], "groups": [v.ids["group"]]}),
        "POST /v2/groups": lambda v: Call("/v2/groups", params={"account_id": v.account}, body={"name": "stolen"}),
        "GET /v2/groups": lambda v: Call("/v2/groups", params={"account_id": v.account}),
        "GET /v2/groups/{access_group_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}"),
        "PATCH /v2/groups/{access_group_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}", headers={"If-Match": "*"}, body={"name": "x"}),
        "DELETE /v2/groups/{access_group_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}", params={"force": "true"}),
        "PUT /v2/groups/{access_group_id}/members": lambda v: Call(f"/v2/groups/{v.ids['group']}/members", body={"members": [{"iam_id": v.ids["user"], "type": "user"}]}),
        "GET /v2/groups/{access_group_id}/members": lambda v: Call(f"/v2/groups/{v.ids['group']}/members"),
        "HEAD /v2/groups/{access_group_id}/members/{iam_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}/members/{v.ids['sid_iam']}"),
        "DELETE /v2/groups/{access_group_id}/members/{iam_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}/members/{v.ids['sid_iam']}"),
        "POST /v2/groups/{access_group_id}/members/delete": lambda v: Call(f"/v2/groups/{v.ids['group']}/members/delete", body={"members": [v.ids["sid_iam"]]}),
        "POST /v2/groups/{access_group_id}/rules": lambda v: Call(f"/v2/groups/{v.ids['group']}/rules", body=GROUP_RULE),
        "GET /v2/groups/{access_group_id}/rules": lambda v: Call(f"/v2/groups/{v.ids['group']}/rules"),
        "GET /v2/groups/{access_group_id}/rules/{rule_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}/rules/{v.ids['group_rule']}"),
        "PUT /v2/groups/{access_group_id}/rules/{rule_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}/rules/{v.ids['group_rule']}", headers={"If-Match": "*"}, body=GROUP_RULE),
        "DELETE /v2/groups/{access_group_id}/rules/{rule_id}": lambda v: Call(f"/v2/groups/{v.ids['group']}/rules/{v.ids['group_rule']}"),
        # User management.
        "GET /v2/accounts/{account_id}/users": lambda v: Call(f"/v2/accounts/{v.account}/users"),
        "POST /v2/accounts/{account_id}/users": lambda v: Call(f"/v2/accounts/{v.account}/users", body={"users": [{"email": "intruder@example.com", "account_role": "Member"}]}),
        "POST /v2/users/accept": lambda v: Call("/v2/users/accept", body={"account_id": v.account}),
        "GET /v2/accounts/{account_id}/users/{iam_id}": lambda v: Call(f"/v2/accounts/{v.account}/users/{v.ids['user']}"),
        "PATCH /v2/accounts/{account_id}/users/{iam_id}": lambda v: Call(f"/v2/accounts/{v.account}/users/{v.ids['user']}", body={"state": "VPN_ONLY"}),
        "DELETE /v2/accounts/{account_id}/users/{iam_id}": lambda v: Call(f"/v2/accounts/{v.account}/users/{v.ids['user']}"),
        "DELETE /v3/accounts/{account_id}/users/{iam_id}": lambda v: Call(f"/v3/accounts/{v.account}/users/{v.ids['user']}"),
        "GET /v2/accounts/{account_id}/users/{iam_id}/settings": lambda v: Call(f"/v2/accounts/{v.account}/users/{v.ids['user']}/settings"),
        "PATCH /v2/accounts/{account_id}/users/{iam_id}/settings": lambda v: Call(f"/v2/accounts/{v.account}/users/{v.ids['user']}/settings", body={"language": "fr"}),
        # Enterprise.
        "POST /v1/enterprises": lambda v: Call("/v1/enterprises", body={"source_account_id": v.account, "name": "Stolen", "primary_contact_iam_id": v.owner}),
        "GET /v1/enterprises": lambda v: Call("/v1/enterprises", params={"account_id": v.account}),
        "GET /v1/enterprises/{enterprise_id}": lambda v: Call(f"/v1/enterprises/{v.ids['enterprise']}"),
        "PATCH /v1/enterprises/{enterprise_id}": lambda v: Call(f"/v1/enterprises/{v.ids['enterprise']}", body={"name": "x"}),
        "PUT /v1/enterprises/{enterprise_id}/import/accounts/{account_id}": lambda v: Call(f"/v1/enterprises/{v.ids['enterprise']}/import/accounts/{v.account}"),
        "POST /v1/accounts": lambda v: Call("/v1/accounts", body={"parent": v.ids["enterprise_crn"], "name": "stolen", "owner_iam_id": v.owner}),
        "GET /v1/accounts": lambda v: Call("/v1/accounts", params={"enterprise_id": v.ids["enterprise"]}),
        "GET /v1/accounts/{account_id}": lambda v: Call(f"/v1/accounts/{v.ids['enterprise_account']}"),
        "PATCH /v1/accounts/{account_id}": lambda v: Call(f"/v1/accounts/{v.ids['enterprise_account']}", body={"parent": v.ids["enterprise_crn"]}),
        "DELETE /v1/accounts/{account_id}": lambda v: Call(f"/v1/accounts/{v.ids['enterprise_account']}"),
        "POST /v1/account-groups": lambda v: Call("/v1/account-groups", body={"parent": v.ids["enterprise_crn"], "name": "stolen", "primary_contact_iam_id": v.owner}),
        "GET /v1/account-groups": lambda v: Call("/v1/account-groups", params={"enterprise_id": v.ids["enterprise"]}),
        "GET /v1/account-groups/{account_group_id}": lambda v: Call(f"/v1/account-groups/{v.ids['account_group']}"),
        "PATCH /v1/account-groups/{account_group_id}": lambda v: Call(f"/v1/account-groups/{v.ids['account_group']}", body={"name": "x"}),
        "DELETE /v1/account-groups/{account_group_id}": lambda v: Call(f"/v1/account-groups/{v.ids['account_group']}"),
        # Resource Manager and Controller.
        "GET /v2/resource_groups": lambda v: Call("/v2/resource_groups", params={"account_id": v.account}),
        "POST /v2/resource_groups": lambda v: Call("/v2/resource_groups", body={"name": "stolen", "account_id": v.account}),
        "GET /v2/resource_groups/{id}": lambda v: Call(f"/v2/resource_groups/{v.ids['rg']}"),
        "PATCH /v2/resource_groups/{id}": lambda v: Call(f"/v2/resource_groups/{v.ids['rg']}", body={"name": "x"}),
        "DELETE /v2/resource_groups/{id}": lambda v: Call(f"/v2/resource_groups/{v.ids['rg']}"),
        "POST /v2/resource_instances": lambda v: Call("/v2/resource_instances", body={"name": "x", "target": "us-south", "resource_group": v.ids["rg"], "resource_plan_id": KMS_PLAN}),
        "GET /v2/resource_instances": lambda v: Call("/v2/resource_instances", params={"resource_group_id": v.ids["rg"]}),
        "POST /v2/resource_instances/{id}/lock": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}/lock"),
        "DELETE /v2/resource_instances/{id}/lock": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}/lock"),
        "DELETE /v2/resource_instances/{id}/last_operation": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}/last_operation"),
        "GET /v2/resource_instances/{id}/resource_keys": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}/resource_keys"),
        "GET /v2/resource_instances/{id}": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}"),
        "PATCH /v2/resource_instances/{id}": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}", body={"name": "x"}),
        "DELETE /v2/resource_instances/{id}": lambda v: Call(f"/v2/resource_instances/{v.ids['instance']}", params={"recursive": "true"}),
        "GET /v1/reclamations": lambda v: Call("/v1/reclamations", params={"account_id": v.account}),
        "POST /v1/reclamations/{id}/actions/{action_name}": lambda v: Call(f"/v1/reclamations/{v.ids['reclamation']}/actions/restore"),
        "POST /v2/resource_keys": lambda v: Call("/v2/resource_keys", body={"name": "x", "source": v.ids["instance"]}),
        "GET /v2/resource_keys": lambda v: Call("/v2/resource_keys", params={"resource_group_id": v.ids["rg"]}),
        "GET /v2/resource_keys/{id}": lambda v: Call(f"/v2/resource_keys/{v.ids['rkey']}"),
        "PATCH /v2/resource_keys/{id}": lambda v: Call(f"/v2/resource_keys/{v.ids['rkey']}", body={"name": "x"}),
        "DELETE /v2/resource_keys/{id}": lambda v: Call(f"/v2/resource_keys/{v.ids['rkey']}"),
        # Key Protect, with the victim's instance in `Bluemix-Instance`.
        "GET /api/v2/keys/registrations": lambda v: _kms(Call("/api/v2/keys/registrations"), v),
        "GET /api/v2/keys/{id}/registrations": key("/registrations"),
        "POST /api/v2/keys/{id}/registrations/{crn}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/registrations/{_registration_crn(v)}"), v),
        "PUT /api/v2/keys/{id}/registrations/{crn}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/registrations/{_registration_crn(v)}"), v),
        "PATCH /api/v2/keys/{id}/registrations/{crn}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/registrations/{_registration_crn(v)}"), v),
        "DELETE /api/v2/keys/{id}/registrations/{crn}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/registrations/{_registration_crn(v)}"), v),
        "POST /api/v2/event_ack": lambda v: _kms(Call("/api/v2/event_ack", body=_envelope("application/vnd.ibm.kms.event_acknowledge+json", {"eventId": "e-1", "adopterKeyState": "DEK_DESTROYED", "timestamp": "2030-01-01T00:00:00Z"})), v),
        "GET /api/v2/key_rings": lambda v: _kms(Call("/api/v2/key_rings"), v),
        "POST /api/v2/key_rings/{key_ring_id}": lambda v: _kms(Call(f"/api/v2/key_rings/{v.ids['key_ring']}-2"), v),
        "DELETE /api/v2/key_rings/{key_ring_id}": lambda v: _kms(Call(f"/api/v2/key_rings/{v.ids['key_ring']}", params={"force": "true"}), v),
        "POST /api/v2/keys/{id}/aliases/{alias}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/aliases/{v.ids['alias']}-2"), v),
        "DELETE /api/v2/keys/{id}/aliases/{alias}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/aliases/{v.ids['alias']}"), v),
        "GET /api/v2/keys": lambda v: _kms(Call("/api/v2/keys"), v),
        "POST /api/v2/keys": lambda v: _kms(Call("/api/v2/keys", body=_envelope(KEY_TYPE, {"type": KEY_TYPE, "name": "stolen"})), v),
        "HEAD /api/v2/keys": lambda v: _kms(Call("/api/v2/keys"), v),
        f"GET {k}": key(),
        f"PATCH {k}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}", body={"keyRingID": "default"}), v),
        f"DELETE {k}": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}", params={"force": "true"}), v),
        f"GET {k}/metadata": key("/metadata"),
        f"DELETE {k}/purge": key("/purge"),
        f"POST {k}/restore": key("/restore"),
        f"GET {k}/versions": key("/versions"),
        f"POST {k}/actions/wrap": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/actions/wrap", body={}), v),
        f"POST {k}/actions/unwrap": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/actions/unwrap", body={"ciphertext": "opaque"}), v),
        f"POST {k}/actions/rewrap": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/actions/rewrap", body={"ciphertext": "opaque"}), v),
        f"POST {k}/actions/rotate": key("/actions/rotate"),
        f"POST {k}/actions/disable": key("/actions/disable"),
        f"POST {k}/actions/enable": key("/actions/enable"),
        f"POST {k}/actions/setKeyForDeletion": key("/actions/setKeyForDeletion"),
        f"POST {k}/actions/unsetKeyForDeletion": key("/actions/unsetKeyForDeletion"),
        f"POST {k}/actions/sync": key("/actions/sync"),
        "GET /api/v2/import_token": lambda v: _kms(Call("/api/v2/import_token"), v),
        "POST /api/v2/import_token": lambda v: _kms(Call("/api/v2/import_token", body={"expiration": 600, "maxAllowedRetrievals": 1}), v),
        "POST /api/v2/keys_with_policy_overrides": lambda v: _kms(Call("/api/v2/keys_with_policy_overrides", body=_envelope(KEY_TYPE, {"type": KEY_TYPE, "name": "stolen"})), v),
        f"PUT {k}/policies": lambda v: _kms(Call(f"/api/v2/keys/{v.ids['kms_key']}/policies", body=_envelope(POLICY_TYPE, {"type": POLICY_TYPE, "rotation": {"enabled": True, "interval_month": 3}})), v),
        f"GET {k}/policies": key("/policies"),
        "PUT /api/v2/instance/policies": lambda v: _kms(Call("/api/v2/instance/policies", body=_envelope(POLICY_TYPE, {"policy_type": "metrics", "policy_data": {"enabled": True}})), v),
        "GET /api/v2/instance/policies": lambda v: _kms(Call("/api/v2/instance/policies"), v),
        "GET /api/v2/instance/allowed_ip_port": lambda v: _kms(Call("/api/v2/instance/allowed_ip_port"), v),
        # The audit trail: another account's events and chain.
        "GET /v1/audit/events": lambda v: Call("/v1/audit/events", params={"account_id": v.account}),
        "GET /v1/audit/events/export": lambda v: Call("/v1/audit/events/export", params={"account_id": v.account}),
        "GET /v1/audit/verify": lambda v: Call("/v1/audit/verify", params={"account_id": v.account}),
        # The audit-hash helper: a deployment-wide salt over the value sent, no account's data.
        "POST /v1/audit/hash": "hashes the value sent; reads nothing of any account",
    }  # fmt: skip
    return routes


ROUTES = _routes()
# Lists that answer 200 with only what the caller may see (no account in their question): the
# attempt passes when nothing of the victim is in the answer.
FILTERED = {
    "GET /v1/reclamations",
    "GET /v2/resource_instances",
    "GET /v2/resource_keys",
    "GET /v1/enterprises",
}
# Reads an account owner is refused even on their own account (with the reason).
NOT_THE_OWNERS: dict[str, str] = {}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
TRACE = re.compile(r"strongroom-[0-9a-f]{8,}")


def operations(app: Any) -> list[tuple[str, bool]]:
    """Every operation the app serves ("METHOD /path"), walked from its OpenAPI document."""
    return [
        (f"{method.upper()} {path}", bool(spec.get(PUBLIC_KEY)))
        for path, item in app.openapi()["paths"].items()
        for method, spec in item.items()
    ]


def mutate(value: str, rng: random.Random) -> str:
    """An id of the same shape that exists nowhere: UUIDs and 32-hex ids replaced, other ids
    (IBMid-..., names) with their last characters redrawn in the same classes."""
    out = UUID.sub(lambda _m: str(uuid.UUID(int=rng.getrandbits(128), version=4)), value)
    out = HEX32.sub(lambda _m: f"{rng.getrandbits(128):032x}", out)
    if out != value:
        return out
    chars = list(value)
    for i in range(max(0, len(chars) - 8), len(chars)):
        c = chars[i]
        if c.isdigit():
            chars[i] = rng.choice("0123456789")
        elif c.isupper():
            chars[i] = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        elif c.islower():
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return "".join(chars)


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: str | None


ENTERPRISE = re.compile(r"^/v1/(enterprises|account-groups)(/|$)|^/v1/accounts(/[^/]+)?$")


def credentials(path: str, caller: Tenant) -> dict[str, str]:
    """The Enterprise API is called with the enterprise's own token (its service ID)."""
    return caller.enterprise_headers if ENTERPRISE.match(path) else caller.headers


def render(method: str, call: Call, attacker: Tenant) -> Sent:
    body = None if call.body is None else json.dumps(call.body)
    headers = {**credentials(call.path, attacker), **call.headers}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return Sent(method, call.path, dict(call.params), headers, body)


def substitute(sent: Sent, swaps: dict[str, str]) -> Sent:
    """The same request with each victim value replaced by its guess (the attacker's own token
    is left alone: only victim values are in `swaps`)."""

    def swap(text: str) -> str:
        for old, new in swaps.items():
            text = text.replace(old, new)
        return text

    auth = sent.headers["Authorization"]
    headers = {k: swap(v) for k, v in sent.headers.items() if k != "Authorization"}
    headers["Authorization"] = auth
    return Sent(
        sent.method,
        swap(sent.path),
        {k: swap(v) for k, v in sent.params.items()},
        headers,
        None if sent.body is None else swap(sent.body),
    )


def send(http: httpx.Client, sent: Sent) -> httpx.Response:
    return http.request(
        sent.method, sent.path, params=sent.params, headers=sent.headers, content=sent.body
    )


def masked(response: httpx.Response, values: dict[str, str]) -> str:
    """The body with trace ids and the values sent (victim ids or their guesses) masked."""
    text = TRACE.sub("<trace>", response.text)
    for value, mark in sorted(values.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(quote(value, safe=""), mark).replace(value, mark)
    return text


@dataclass
class Tally:
    requests: int = 0
    permits: list[str] = field(default_factory=list)
    oracles: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def attempt(
    http: httpx.Client,
    op: str,
    attacker: Tenant,
    victim: Tenant,
    others: set[str],
    rng: random.Random,
    tally: Tally,
) -> None:
    """One foreign call and its twin with guessed ids; both must refuse, identically."""
    build = ROUTES[op]
    assert callable(build)
    method = op.split(" ", 1)[0]
    real = render(method, build(victim), attacker)
    victim_values = {v for v in [victim.account, victim.owner, *victim.ids.values()] if len(v) >= 8}
    serial = json.dumps([real.path, real.params, real.headers, real.body])
    used = sorted((v for v in victim_values if v in serial), key=len, reverse=True)
    swaps = {v: mutate(v, rng) for v in used}
    guess = substitute(real, swaps)
    marks = {v: f"<v{i}>" for i, v in enumerate(used)}
    guess_marks = {swaps[v]: m for v, m in marks.items()}
    first, twin = send(http, real), send(http, guess)
    tally.requests += 2
    tally.statuses[first.status_code] = tally.statuses.get(first.status_code, 0) + 1
    where = f"{op} as {attacker.account} on {victim.account}"
    if op in FILTERED:
        for got in (first, twin):
            if got.status_code != 200 and got.is_success:
                tally.permits.append(f"{where}: {got.status_code}")
    elif first.is_success or twin.is_success:
        tally.permits.append(f"{where}: {first.status_code}/{twin.status_code} {first.text[:200]}")
    if (first.status_code, masked(first, marks)) != (twin.status_code, masked(twin, guess_marks)):
        tally.oracles.append(
            f"{where}: exists {first.status_code} {masked(first, marks)[:300]} | "
            f"missing {twin.status_code} {masked(twin, guess_marks)[:300]}"
        )
    text = masked(first, marks)
    named = [v for v in others if v in text]
    if named:
        tally.leaks.append(f"{where}: the answer names {named[:3]}")


def snapshot(http: httpx.Client, t: Tenant) -> dict[str, Any]:
    """What the owner reads of their account's objects (to see that no attempt changed them)."""
    h, kms = t.headers, {**t.headers, "Bluemix-Instance": t.ids["instance"]}
    reads = {
        "sid": http.get(f"/v1/serviceids/{t.ids['sid']}", headers=h),
        "apikeys": http.get("/v1/apikeys", params={"account_id": t.account}, headers=h),
        "policies": http.get("/v1/policies", params={"account_id": t.account}, headers=h),
        "v2policies": http.get("/v2/policies", params={"account_id": t.account}, headers=h),
        "groups": http.get("/v2/groups", params={"account_id": t.account}, headers=h),
        "members": http.get(f"/v2/groups/{t.ids['group']}/members", headers=h),
        "rules": http.get(f"/v2/groups/{t.ids['group']}/rules", headers=h),
        "roles": http.get("/v2/roles", params={"account_id": t.account}, headers=h),
        "profile": http.get(f"/v1/profiles/{t.ids['profile']}", headers=h),
        "identities": http.get(f"/v1/profiles/{t.ids['profile']}/identities", headers=h),
        "users": http.get(f"/v2/accounts/{t.account}/users", headers=h),
        "rgs": http.get("/v2/resource_groups", params={"account_id": t.account}, headers=h),
        "instance": http.get(f"/v2/resource_instances/{t.ids['instance']}", headers=h),
        "rkey": http.get(f"/v2/resource_keys/{t.ids['rkey']}", headers=h),
        "reclamations": http.get("/v1/reclamations", params={"account_id": t.account}, headers=h),
        "keys": http.get("/api/v2/keys", headers=kms),
        "key": http.get(f"/api/v2/keys/{t.ids['kms_key']}/metadata", headers=kms),
        "rings": http.get("/api/v2/key_rings", headers=kms),
        "settings": http.get(f"/v1/accounts/{t.account}/settings/identity", headers=h),
    }
    for name, got in reads.items():
        assert got.status_code == 200, f"{name}: {got.status_code} {got.text[:200]}"
    return {name: TRACE.sub("", got.text) for name, got in reads.items()}


@pytest.fixture(scope="module")
def world(server: LiveServer) -> list[Tenant]:
    rng = random.Random(0xC2)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        return [new_tenant(server, http, rng) for _ in range(ACCOUNTS)]


def test_every_route_is_classified(server: LiveServer) -> None:
    """A new route fails here until it says how to aim it at another account (or why not)."""
    served = operations(server.runtime.app)
    unclassified = [op for op, _public in served if op not in ROUTES]
    assert unclassified == [], "classify these routes in tests/reliability/test_tenant_isolation.py"
    stale = set(ROUTES) - {op for op, _ in served}
    assert not stale, f"routes no longer served: {stale}"
    for op, public in served:
        assert public == (ROUTES[op] == "public"), op


def test_no_account_reaches_another(server: LiveServer, world: list[Tenant]) -> None:
    rng = random.Random(0x150)
    aimed = [op for op, build in ROUTES.items() if callable(build)]
    owned = {t.account: t.all_ids | {t.account, t.owner, *t.ids.values()} for t in world}
    before = {}
    tally = Tally()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        before = {t.account: snapshot(http, t) for t in world}
        # Exhaustive: every route x verb, from each account at the next one.
        for i, attacker in enumerate(world):
            victim = world[(i + 1) % len(world)]
            others = {v for a, ids in owned.items() if a != attacker.account for v in ids}
            others = {v for v in others if len(v) >= 12}
            for op in aimed:
                attempt(http, op, attacker, victim, others, rng, tally)
        exhaustive = tally.requests
        # Random: routes, attackers and victims drawn until the budget is spent.
        while tally.requests < ATTEMPTS:
            attacker, victim = rng.sample(world, 2)
            others = {v for a, ids in owned.items() if a != attacker.account for v in ids}
            others = {v for v in others if len(v) >= 12}
            attempt(http, rng.choice(aimed), attacker, victim, others, rng, tally)
        after = {t.account: snapshot(http, t) for t in world}
    print(
        f"\nC2: {tally.requests} cross-account requests ({exhaustive} in the exhaustive pass of "
        f"{len(aimed)} routes x {len(world)} attackers), {len(tally.permits)} permits, "
        f"{len(tally.oracles)} existence oracles, {len(tally.leaks)} leaks; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    # One line per route and kind of finding (the same finding repeats across attackers).
    for finding in sorted({f.split(" as ")[0] + " :: " + f.split(": ", 1)[1][:400]
                           for f in tally.permits + tally.oracles + tally.leaks}):  # fmt: skip
        print("C2 finding:", finding)
    assert tally.permits == []
    assert tally.oracles == []
    assert tally.leaks == []
    for account, reads in before.items():
        changed = [name for name, text in reads.items() if after[account][name] != text]
        assert changed == [], f"{account}: {changed} changed under foreign calls"


LISTS = {
    "GET /v1/apikeys": lambda t: Call("/v1/apikeys", params={"account_id": t.account}),
    "GET /v1/serviceids/": lambda t: Call("/v1/serviceids/", params={"account_id": t.account}),
    "GET /v1/profiles": lambda t: Call("/v1/profiles", params={"account_id": t.account}),
    "GET /v1/policies": lambda t: Call("/v1/policies", params={"account_id": t.account}),
    "GET /v2/policies": lambda t: Call("/v2/policies", params={"account_id": t.account}),
    "GET /v2/roles": lambda t: Call("/v2/roles", params={"account_id": t.account}),
    "GET /v2/groups": lambda t: Call("/v2/groups", params={"account_id": t.account}),
    "GET /v2/accounts/{account_id}/users": lambda t: Call(f"/v2/accounts/{t.account}/users"),
    "GET /v2/resource_groups": lambda t: Call("/v2/resource_groups", params={"account_id": t.account}),
    "GET /v2/resource_instances": lambda t: Call("/v2/resource_instances"),
    "GET /v2/resource_keys": lambda t: Call("/v2/resource_keys"),
    "GET /v1/reclamations": lambda t: Call("/v1/reclamations", params={"account_id": t.account}),
    "GET /v1/enterprises": lambda t: Call("/v1/enterprises"),
    "GET /api/v2/keys": lambda t: _kms(Call("/api/v2/keys"), t),
    "GET /api/v2/key_rings": lambda t: _kms(Call("/api/v2/key_rings"), t),
    "GET /api/v2/keys/registrations": lambda t: _kms(Call("/api/v2/keys/registrations"), t),
    "GET /v2/groups/{access_group_id}/members": lambda t: Call(f"/v2/groups/{t.ids['group']}/members"),
    "GET /v2/resource_instances/{id}/resource_keys": lambda t: Call(f"/v2/resource_instances/{t.ids['instance']}/resource_keys"),
}  # fmt: skip


def test_lists_hold_no_foreign_rows(server: LiveServer, world: list[Tenant]) -> None:
    """Each owner lists their own account: not one id of another account in any answer."""
    rows = 0
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for t in world:
            foreign = {v for o in world if o is not t for v in o.all_ids if len(v) >= 12}
            mine = t.all_ids
            for op, build in LISTS.items():
                call = build(t)
                headers = {**credentials(call.path, t), **call.headers}
                got = http.get(call.path, params=call.params, headers=headers)
                assert got.status_code == 200, f"{op}: {got.status_code} {got.text[:200]}"
                found = [v for v in foreign if v in got.text]
                assert found == [], f"{op} for {t.account} shows foreign rows {found[:3]}"
                rows += sum(1 for v in mine if v in got.text)
    assert rows > len(world) * 10  # the lists really listed the owners' own objects


def test_the_reads_work_on_the_callers_own_account(server: LiveServer, world: list[Tenant]) -> None:
    """The control: aimed at the caller's OWN objects, the same reads succeed. So a refusal
    above is the tenant boundary at work, not a malformed request."""
    failed = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for op, build in ROUTES.items():
            method = op.split(" ", 1)[0]
            if not callable(build) or method not in ("GET", "HEAD"):
                continue
            t = world[0]
            call = build(t)
            headers = {**credentials(call.path, t), **call.headers}
            got = http.request(method, call.path, params=call.params, headers=headers)
            if not got.is_success and op not in NOT_THE_OWNERS:
                failed.append(f"{op}: {got.status_code} {got.text[:200]}")
    assert failed == []
