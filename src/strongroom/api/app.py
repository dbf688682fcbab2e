"""The FastAPI application factory. No import-time globals: everything comes in the Container."""

from __future__ import annotations

from fastapi import FastAPI

from strongroom import __version__
from strongroom.api import errors, openapi
from strongroom.api.container import Container
from strongroom.api.kms_action_form import ActionForm
from strongroom.api.middleware import RequestContext
from strongroom.api.routers import (
    access_settings,
    apikeys,
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
    )
    app.state.container = container
    errors.install(app)
    openapi.install(app)
    # The decision point first: FastAPI matches included routers one by one, twice a request,
    # so a route's place in the table is part of its cost (docs/benchmarks.md, "Authorization
    # over HTTP"). Its paths are all fixed and under /v2/authz, which nothing else serves.
    identity = (health, tokens, apikeys, serviceids, profiles, templates)
    access = (policies, roles, access_settings)
    for module in (authz, *identity, *access, access_groups, user_management, identity_settings):
        app.include_router(module.router)
    # Enterprise Management (spec §9)
    app.include_router(enterprise_management.router)
    # Resource Manager (spec §7)
    app.include_router(resource_groups.router)
    # Resource Controller (spec §8)
    for module in (resource_instances, resource_keys):
        app.include_router(module.router)
    # Key management (spec kms-api.md §3). Registrations first: `GET /keys/registrations` must
    # match before `GET /keys/{id}` takes `registrations` for a key id. The allowedIP policy is
    # checked where the instance is opened (kms/scope.py).
    for module in (kms_registrations, kms_rings, kms_keys, kms_import, kms_policies):
        app.include_router(module.router)
    app.include_router(kms_policies.instance_router)
    app.add_middleware(ActionForm)
    app.add_middleware(RequestContext, max_body_bytes=container.settings.max_body_bytes)
    return app
