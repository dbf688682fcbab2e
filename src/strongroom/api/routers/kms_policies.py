"""Key Protect policies at IBM's paths (spec kms-api.md §3 rows 2, 22-26, §3.1, §3.6).

`router` holds the key-level routes (key policies, creation with policy overrides), under the
allowedIP check like every key route; `instance_router` holds the instance-level routes, which
that check leaves reachable (kms/scope.py `open_scope`, `check_source`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.kms_wire import (
    InstanceId,
    KeyRingHint,
    MediaType,
    collection,
    kms_json,
    prefer,
    read_envelope,
)
from strongroom.api.schemas.kms import KEY_TYPE, key_out
from strongroom.api.schemas.kms_policies import instance_policy_out, key_policy_out
from strongroom.kms.key_policies import DUAL_AUTH, ROTATION

router = APIRouter(prefix="/api/v2")
instance_router = APIRouter(prefix="/api/v2")
POLICIES = "/keys/{id}/policies"


@router.post(
    "/keys_with_policy_overrides",
    **iam_action("kms.secrets-with-policy-overrides.create", answers=201),
)
async def create_key_with_policy_overrides(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
) -> Response:
    """`POST /keys` whose resource may also carry `rotation` and `dualAuthDelete`, which
    replace what the instance's policies would give the key (spec §3.1). 201 like create."""
    (resource,) = read_envelope(
        await request.body(), collection_type=KEY_TYPE, known=(ROTATION, DUAL_AUTH)
    )
    view = await run_in_threadpool(
        services.kms_keys.create, guard, instance, resource, ring, policy_overrides=True
    )
    wanted = prefer(request)
    body = collection([key_out(view, services.kms_clock.now(), minimal=wanted == "minimal")],
                      KEY_TYPE)  # fmt: skip
    return kms_json(body, status=201, media_type=KEY_TYPE)


@router.put(POLICIES, **iam_action("kms.policies.write"))
async def put_key_policies(
    id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    policy: str | None = None,
) -> Response:
    """200 with the policies the request set (go and py3 read the envelope back)."""
    resources = read_envelope(
        await request.body(), collection_type=MediaType.POLICY, max_items=None
    )
    key, written = await run_in_threadpool(
        services.kms_policies.put_key_policies, guard, instance, id, resources, policy
    )
    return kms_json(collection([key_policy_out(key, p) for p in written], MediaType.POLICY))


@router.get(POLICIES, **iam_action("kms.policies.read"))
def get_key_policies(
    id: str,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    policy: str | None = None,
) -> Response:
    key, found = services.kms_policies.key_policies(guard, instance, id, policy)
    return kms_json(collection([key_policy_out(key, p) for p in found], MediaType.POLICY))


@instance_router.put("/instance/policies", **iam_action("kms.instancepolicies.write", answers=204))
async def put_instance_policies(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    policy: str | None = None,
) -> Response:
    resources = read_envelope(
        await request.body(), collection_type=MediaType.POLICY, max_items=None
    )
    await run_in_threadpool(
        services.kms_policies.put_instance_policies, guard, instance, resources, policy
    )
    return Response(status_code=204)


@instance_router.get("/instance/policies", **iam_action("kms.instancepolicies.read"))
def get_instance_policies(
    guard: CurrentGuard, services: Services, instance: InstanceId, policy: str | None = None
) -> Response:
    found = services.kms_policies.instance_policies(guard, instance, policy)
    return kms_json(collection([instance_policy_out(p) for p in found], MediaType.POLICY))


@instance_router.get("/instance/allowed_ip_port", **iam_action("kms.instance.readallowedipport"))
def get_allowed_ip_port(guard: CurrentGuard, services: Services, instance: InstanceId) -> Response:
    """`{private_endpoint_port}` while an allowedIP policy is on; empty `resources` otherwise
    (go's client reads "no port" from the empty list)."""
    port = services.kms_policies.allowed_ip_port(guard, instance)
    items = [] if port is None else [{"private_endpoint_port": port}]
    return kms_json(collection(items, MediaType.ALLOWED_IP_METADATA))
