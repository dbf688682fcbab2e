"""Key Protect keys at IBM's paths (spec kms-api.md §3, rows 1-21): `/api/v2/keys...`.

Every route names its `kms.` action; for an `hs-crypto` instance the same suffix is checked
under `hs-crypto.` (kms/scope.py). Bodies are read whatever their Content-Type, as Key Protect
does (spec §1.2), and the deprecated `POST /keys/{id}?action=<name>` form reaches the same
handlers (api/kms_wire.py rewrites its path before routing).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.kms_wire import (
    InstanceId,
    KeyRingHint,
    collection,
    kms_json,
    prefer,
    read_envelope,
    read_json,
)
from strongroom.api.schemas.kms import (
    KEY_ACTION_TYPE,
    KEY_TYPE,
    VERSION_TYPE,
    key_out,
    unwrap_out,
    version_out,
    wrap_out,
)
from strongroom.kms.errors import KmsError
from strongroom.kms.keys import KeyView
from strongroom.kms.listing import parse_list_query

router = APIRouter(prefix="/api/v2")
# A new key's members, matched case-insensitively (the go client sends `Tags`, spec §2.1).
NEW_KEY_FIELDS = (
    "type", "name", "description", "extractable", "tags", "aliases", "expirationDate",
    "payload", "encryptedNonce", "iv", "encryptionAlgorithm", "rotation", "dualAuthDelete",
)  # fmt: skip
KEY = "/keys/{id}"


def answer_status(request: Request, status: int, *, default_full: bool) -> int:
    """What `_key_answer` will answer: 204 unless the route answers a key by default or
    `Prefer: return=representation` asks for it."""
    return status if default_full or prefer(request) == "representation" else 204


def _deleted(request: Request) -> int:
    return answer_status(request, 200, default_full=False)


def _key_answer(
    request: Request, services: Services, view: KeyView, status: int, *, default_full: bool
) -> Response:
    """A key envelope; `Prefer: return=minimal` trims it, and routes that answer 204 by
    default answer it unless `return=representation` was asked for."""
    wanted = prefer(request)
    if answer_status(request, status, default_full=default_full) == 204:
        return Response(status_code=204)
    now = services.kms_clock.now()
    body = collection([key_out(view, now, minimal=wanted == "minimal")], KEY_TYPE)
    return kms_json(body, status=status, media_type=KEY_TYPE)


@router.post("/keys", **iam_action("kms.secrets.create", answers=201))
async def create_key(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
) -> Response:
    (resource,) = read_envelope(
        await request.body(), collection_type=KEY_TYPE, known=NEW_KEY_FIELDS
    )
    view = await run_in_threadpool(services.kms_keys.create, guard, instance, resource, ring)
    return _key_answer(request, services, view, 201, default_full=True)


@router.get("/keys", **iam_action("kms.secrets.list"))
def list_keys(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
) -> Response:
    query = parse_list_query(request.query_params)
    page = services.kms_keys.list_page(guard, instance, query, ring)
    now = services.kms_clock.now()
    body = collection([key_out(v, now) for v in page.keys], KEY_TYPE)
    body["metadata"].update(page.metadata)
    return kms_json(body)


@router.head("/keys", **iam_action("kms.secrets.list"))
def key_total(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
) -> Response:
    query = parse_list_query(request.query_params)
    total = services.kms_keys.total(guard, instance, query, ring)
    return Response(status_code=200, headers={"Key-Total": str(total)})


@router.get(KEY, **iam_action("kms.secrets.read"))
def get_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    view = services.kms_keys.get(guard, instance, id, with_payload=True)
    return _key_answer(request, services, view, 200, default_full=True)


@router.get(KEY + "/metadata", **iam_action("kms.secrets.readmetadata"))
def get_key_metadata(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    view = services.kms_keys.get(guard, instance, id, with_payload=False)
    return _key_answer(request, services, view, 200, default_full=True)


@router.patch(KEY, **iam_action("kms.secrets.patch"))
async def patch_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    body = read_json(await request.body(), required=True, known=("keyRingID",))
    view = await run_in_threadpool(services.kms_keys.move, guard, instance, id, body)
    return _key_answer(request, services, view, 200, default_full=True)


@router.delete(KEY, **iam_action("kms.secrets.delete", answers=_deleted))
def delete_key(
    id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    force: bool = False,
) -> Response:
    view = services.kms_keys.delete(guard, instance, id, force=force)
    return _key_answer(request, services, view, 200, default_full=False)


@router.delete(KEY + "/purge", **iam_action("kms.secrets.purge", answers=_deleted))
def purge_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    view = services.kms_keys.purge(guard, instance, id)
    return _key_answer(request, services, view, 200, default_full=False)


@router.post(KEY + "/restore", **iam_action("kms.secrets.restore", answers=201))
def restore_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    view = services.kms_keys.restore(guard, instance, id)
    return _key_answer(request, services, view, 201, default_full=True)


@router.get(KEY + "/versions", **iam_action("kms.secrets.listkeyversions"))
def list_key_versions(
    id: str,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    limit: int = 200,
    offset: int = 0,
    totalCount: bool = False,
) -> Response:
    if not 1 <= limit <= 5000 or offset < 0:
        raise KmsError(
            "INVALID_QUERY_PARAM_ERR",
            "`limit` is 1 to 5000 and `offset` at least 0",
            what="Key versions could not be listed",
            target="limit",
        )
    versions, total = services.kms_keys.versions(guard, instance, id, offset, limit)
    body = collection(
        [version_out(v) for v in versions], VERSION_TYPE, total_count=total if totalCount else None
    )
    return kms_json(body)


# -- actions (spec §3.4): one route per action, each with its own IAM action ------------------


async def _body(request: Request, known: tuple[str, ...]) -> dict[str, Any]:
    found = read_json(await request.body(), required=False, known=known)
    return found or {}


_WRAP_FIELDS = ("plaintext", "aad", "ciphertext")


@router.post(KEY + "/actions/wrap", **iam_action("kms.secrets.wrap"))
async def wrap_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    body = await _body(request, _WRAP_FIELDS)
    result = await run_in_threadpool(services.kms_wrap.wrap, guard, instance, id, body)
    return kms_json(wrap_out(result), media_type=KEY_ACTION_TYPE)


@router.post(KEY + "/actions/unwrap", **iam_action("kms.secrets.unwrap"))
async def unwrap_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    body = await _body(request, _WRAP_FIELDS)
    result = await run_in_threadpool(services.kms_wrap.unwrap, guard, instance, id, body, True)
    return kms_json(unwrap_out(result), media_type=KEY_ACTION_TYPE)


@router.post(KEY + "/actions/rewrap", **iam_action("kms.secrets.rewrap"))
async def rewrap_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    body = await _body(request, _WRAP_FIELDS)
    result = await run_in_threadpool(services.kms_wrap.unwrap, guard, instance, id, body, False)
    return kms_json(unwrap_out(result), media_type=KEY_ACTION_TYPE)


@router.post(KEY + "/actions/rotate", **iam_action("kms.secrets.rotate", answers=204))
async def rotate_key(
    id: str, request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    body = await _body(request, ("payload", "encryptedNonce", "iv", "encryptionAlgorithm"))
    await run_in_threadpool(services.kms_wrap.rotate, guard, instance, id, body)
    return Response(status_code=204)  # 204 even with Prefer: return=representation (spec §3.4)


def _lifecycle_route(name: str, action: str) -> None:
    def act(id: str, guard: CurrentGuard, services: Services, instance: InstanceId) -> Response:
        services.kms_keys.act(guard, instance, id, name)
        return Response(status_code=204)

    act.__name__ = f"{name}_key"
    router.post(KEY + f"/actions/{name}", **iam_action(action, answers=204))(act)


for _name, _action in (
    ("disable", "kms.secrets.disable"),
    ("enable", "kms.secrets.enable"),
    ("setKeyForDeletion", "kms.secrets.setkeyfordeletion"),
    ("unsetKeyForDeletion", "kms.secrets.unsetkeyfordeletion"),
    ("sync", "kms.secrets.sync"),
):
    _lifecycle_route(_name, _action)
