"""Key rings and key aliases at IBM's paths (spec kms-api.md §3 rows 33-37, §3.9):
`/api/v2/key_rings...` and `/api/v2/keys/{id}/aliases/{alias}`.

Key-ring create answers 201 with no body and the deletes 204: go's client reads no body from
them and fails on one (spec §3, after the table).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.kms_wire import InstanceId, MediaType, collection, kms_json, no_content
from strongroom.api.schemas.kms_rings import alias_out, ring_out
from strongroom.kms.paging import page

router = APIRouter(prefix="/api/v2")
RING = "/key_rings/{key_ring_id}"
ALIAS = "/keys/{id}/aliases/{alias}"


@router.get("/key_rings", **iam_action("kms.keyrings.list"))
def list_key_rings(
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    limit: int = 100,  # py3's documented default page (spec §3.9)
    offset: int = 0,
    totalCount: bool = False,
) -> Response:
    wanted = page(limit, offset, what="Key rings could not be listed")
    found = services.kms_rings.list_page(guard, instance, wanted)
    body = collection(
        [ring_out(r) for r in found.rings],
        MediaType.KEY_RING,
        total_count=found.total if totalCount else None,
    )
    return kms_json(body)


@router.post(RING, **iam_action("kms.keyrings.create", answers=201))
def create_key_ring(
    key_ring_id: str, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    services.kms_rings.create(guard, instance, key_ring_id)
    return no_content(201)


@router.delete(RING, **iam_action("kms.keyrings.delete", answers=204))
def delete_key_ring(
    key_ring_id: str,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    force: bool = False,
) -> Response:
    services.kms_rings.delete(guard, instance, key_ring_id, force=force)
    return no_content()


@router.post(ALIAS, **iam_action("kms.secrets.createalias", answers=201))
def create_key_alias(
    id: str, alias: str, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    made = services.kms_aliases.create(guard, instance, id, alias)
    return kms_json(collection([alias_out(made)], MediaType.ALIAS), status=201)


@router.delete(ALIAS, **iam_action("kms.secrets.deletealias", answers=204))
def delete_key_alias(
    id: str, alias: str, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    services.kms_aliases.delete(guard, instance, id, alias)
    return no_content()
