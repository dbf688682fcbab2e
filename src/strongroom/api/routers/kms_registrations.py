"""Registrations and event acknowledgement at IBM's paths (spec kms-api.md §3 rows 29-32, §3.8):
`/api/v2/keys/registrations`, `/api/v2/keys/{id}/registrations[/{urlEncodedCRN}]` and
`/api/v2/event_ack`.

`GET /keys/registrations` must be matched before `GET /keys/{id}` reads `registrations` as a key
id, so api/app.py includes this router before api/routers/kms_keys.py. The resource CRN comes
URL-encoded in the path; a CRN may hold `/` (`...::/agentid=1234`, s2sdoc), so the route takes
the rest of the path.
"""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.kms_wire import (
    InstanceId,
    KeyRingHint,
    MediaType,
    collection,
    kms_json,
    no_content,
    read_envelope,
)
from strongroom.api.schemas.kms_registrations import registration_out
from strongroom.kms.paging import page
from strongroom.kms.registrations import (
    WHAT,
    Fields,
    RegistrationPage,
    RegistrationQuery,
    RegistrationView,
    parse_fields,
)


class _AnyRest(PathConvertor):
    """Starlette's `path`, whose `.*` stops at a newline: a CRN holding one then matched no
    route, a 501 for a route this server serves. Now the CRN rule refuses it with a 4xx (found by
    reliability.md A1)."""

    regex = "(?s:.*)"


register_url_convertor("crn_rest", _AnyRest())

router = APIRouter(prefix="/api/v2")
ONE = "/keys/{id}/registrations/{crn:crn_rest}"
LISTED = "Registrations could not be listed"
INPUT_FIELDS = ("description", "registrationMetadata", "preventKeyDeletion")
EVENT_FIELDS = ("eventId", "adopterKeyState", "timestamp", "keyStateData")


def _crn(value: str) -> str:
    """The CRN as sent: once decoded by the router, or twice when a client encoded it on top of
    its HTTP library's own encoding."""
    if not value.startswith("crn:") and unquote(value).startswith("crn:"):
        return unquote(value)
    return value


def _page(found: RegistrationPage, total_count: bool) -> Response:
    body = collection(
        [registration_out(v) for v in found.registrations],
        MediaType.REGISTRATION,
        total_count=found.total if total_count else None,
    )
    return kms_json(body)


def _one(view: RegistrationView, status: int) -> Response:
    return kms_json(collection([registration_out(view)], MediaType.REGISTRATION), status=status)


@router.get("/keys/registrations", **iam_action("kms.registrations.list"))
def list_registrations(
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
    limit: int = 200,
    offset: int = 0,
    urlEncodedResourceCRNQuery: str | None = None,
    preventKeyDeletion: bool | None = None,
    totalCount: bool = False,
) -> Response:
    query = RegistrationQuery.parse(
        page(limit, offset, what=LISTED),
        _crn(urlEncodedResourceCRNQuery) if urlEncodedResourceCRNQuery else None,
        preventKeyDeletion,
        all_keys=True,
    )
    return _page(services.kms_registrations.list_all(guard, instance, ring, query), totalCount)


@router.get("/keys/{id}/registrations", **iam_action("kms.registrations.listforkey"))
def list_key_registrations(
    id: str,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    limit: int = 200,
    offset: int = 0,
    urlEncodedResourceCRNQuery: str | None = None,
    preventKeyDeletion: bool | None = None,
    totalCount: bool = False,
) -> Response:
    query = RegistrationQuery.parse(
        page(limit, offset, what=LISTED),
        _crn(urlEncodedResourceCRNQuery) if urlEncodedResourceCRNQuery else None,
        preventKeyDeletion,
        all_keys=False,
    )
    found = services.kms_registrations.list_for_key(guard, instance, id, query)
    return _page(found, totalCount)


async def _fields(request: Request, action: str) -> Fields:
    resources = read_envelope(
        await request.body(),
        collection_type=MediaType.REGISTRATION_INPUT,
        required=False,
        known=INPUT_FIELDS,
    )
    return parse_fields(resources[0] if resources else None, what=WHAT[action])


@router.post(ONE, **iam_action("kms.registrations.create", answers=201))
async def create_registration(
    id: str,
    crn: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
) -> Response:
    fields = await _fields(request, "create")
    view = await run_in_threadpool(
        services.kms_registrations.create, guard, instance, id, _crn(crn), fields
    )
    return _one(view, 201)


@router.put(ONE, **iam_action("kms.registrations.write"))
async def replace_registration(
    id: str,
    crn: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
) -> Response:
    fields = await _fields(request, "write")
    view = await run_in_threadpool(
        lambda: services.kms_registrations.change(
            guard, instance, id, _crn(crn), fields, merge=False
        )
    )
    return _one(view, 200)


@router.patch(ONE, **iam_action("kms.registrations.merge"))
async def update_registration(
    id: str,
    crn: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
) -> Response:
    fields = await _fields(request, "merge")
    view = await run_in_threadpool(
        lambda: services.kms_registrations.change(
            guard, instance, id, _crn(crn), fields, merge=True
        )
    )
    return _one(view, 200)


@router.delete(ONE, **iam_action("kms.registrations.delete", answers=204))
def delete_registration(
    id: str, crn: str, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    services.kms_registrations.delete(guard, instance, id, _crn(crn))
    return no_content()


@router.post("/event_ack", **iam_action("kms.secrets.eventack", answers=204))
async def acknowledge_event(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    instance: InstanceId,
    ring: KeyRingHint,
) -> Response:
    events = read_envelope(
        await request.body(),
        collection_type=MediaType.EVENT_ACKNOWLEDGE,
        max_items=None,
        known=EVENT_FIELDS,
    )
    await run_in_threadpool(services.kms_registrations.acknowledge, guard, instance, ring, events)
    return no_content()
