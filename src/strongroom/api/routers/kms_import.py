"""Key Protect import tokens at IBM's paths (spec kms-api.md §3 rows 27-28, §3.7):
`/api/v2/import_token`. Secure import itself is part of key create and rotate (kms_keys.py).

Each route names its `kms.` action (`hs-crypto.` for an HPCS instance, kms/scope.py). Making a
token generates an RSA-4096 key, about a second of CPU: the service runs in the thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.kms_wire import InstanceId, kms_json, read_json
from strongroom.api.schemas.kms_import import import_token_out
from strongroom.kms.import_tokens import FIELDS

router = APIRouter(prefix="/api/v2")


@router.post("/import_token", **iam_action("kms.importtoken.create"))
async def create_import_token(
    request: Request, guard: CurrentGuard, services: Services, instance: InstanceId
) -> Response:
    # No body (go sends `{}` for defaults, §3.7) means the defaults.
    body = read_json(await request.body(), required=False, known=FIELDS)
    token = await run_in_threadpool(services.kms_import_tokens.create, guard, instance, body)
    return kms_json(import_token_out(token))


@router.get("/import_token", **iam_action("kms.importtoken.read"))
def get_import_token(guard: CurrentGuard, services: Services, instance: InstanceId) -> Response:
    token = services.kms_import_tokens.retrieve(guard, instance)
    return kms_json(import_token_out(token, retrieved=True))
