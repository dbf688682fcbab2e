"""The FastAPI application factory. No import-time globals: everything comes in the Container."""

from __future__ import annotations

from fastapi import FastAPI

from strongroom import __version__
from strongroom.api import errors, openapi
from strongroom.api.audit_middleware import AuditTrail
from strongroom.api.container import Container
from strongroom.api.kms_action_form import ActionForm
from strongroom.api.middleware import RequestContext
from strongroom.api.routers import (
    access_settings,
    apikeys,
    audit,
    authz,
    health,
    kms_import,
    kms_keys,
    kms_policies,
    kms_registrations,
    kms_rings,
    policies,
    profiles,
    resource_groups,
    resource_instances,
    resource_keys,
    roles,
    serviceids,
    templates,
    tokens,
)
from strongroom.api.routers import account_settings as identity_settings
from strongroom.api.routers import enterprises as enterprise_management
from strongroom.api.routers import groups as access_groups
from strongroom.api.routers import users as user_management


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="strongroom",
        version=__version__,
        description="IAM and key management speaking IBM Cloud's APIs",
        docs_url="/docs",
        redoc_url=None,
        # FastAPI's own OpenTelemetry bridge looks up the global providers on every request;
        # strongroom sets up none, and that lookup cost more than a policy decision.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.container = container
    errors.install(app)
    openapi.install(app)
    # Routes are matched one by one in this order, twice a request, so a route's place in the
    # table is part of its cost (docs/benchmarks.md, "Authorization over HTTP"): the hot paths
    # come first. The decision point's paths are all fixed and under /v2/authz; the token
    # endpoint's under /identity; key management's (spec kms-api.md §3) all under /api/v2, which
    # nothing else serves, so none of them can take another family's request. Within key
    # management, registrations first: `GET /keys/registrations` must match before
    # `GET /keys/{id}` takes `registrations` for a key id. The allowedIP policy is checked where
    # the instance is opened (kms/scope.py).
    kms = (kms_registrations, kms_rings, kms_keys, kms_import, kms_policies)
    for module in (authz, tokens, *kms):
        app.include_router(module.router)
    app.include_router(kms_policies.instance_router)
    identity = (health, apikeys, serviceids, profiles, templates)
    access = (policies, roles, access_settings)
    for module in (*identity, *access, access_groups, user_management, identity_settings):
        app.include_router(module.router)
    # Enterprise Management (spec §9)
    app.include_router(enterprise_management.router)
    # Resource Manager (spec §7)
    app.include_router(resource_groups.router)
    # Resource Controller (spec §8)
    for module in (resource_instances, resource_keys):
        app.include_router(module.router)
    # The audit trail (reliability.md A3): /v1/audit/...
    app.include_router(audit.router)
    app.add_middleware(ActionForm)
    # Between the two: it reads RequestContext's trace, and sees the path before ActionForm
    # rewrites it (the route's declared action names the event either way).
    app.add_middleware(AuditTrail, audit=container.audit)
    app.add_middleware(RequestContext, max_body_bytes=container.settings.max_body_bytes)
    return app
