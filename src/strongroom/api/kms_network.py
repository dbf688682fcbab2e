"""Where a key request comes from (spec kms-api.md §3.6, allowedIP): a dependency of every
`/api/v2` key router (api/app.py), so a new key route is covered by being included there.

The client address is the connection's peer as uvicorn reports it; uvicorn takes it from
`X-Forwarded-For` only when the peer is one of its `--forwarded-allow-ips` (by default
127.0.0.1), so behind a reverse proxy on the same host the policy sees the real client.
The instance-policy routes (`/instance/...`) do not take this dependency: a Manager who shut
themselves out can still correct the policy.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from strongroom.api.deps import Services, principal
from strongroom.api.kms_wire import InstanceId
from strongroom.tokens.claims import Principal


async def allowed_source(
    request: Request,
    caller: Annotated[Principal, Depends(principal)],
    services: Services,
    instance: InstanceId,
) -> None:
    """Runs before the route's own dependencies, so it knows the verified caller but not yet
    the route's action (api/actions.py binds that later)."""
    client = request.client.host if request.client else None
    await run_in_threadpool(services.kms_policies.check_source, caller.account_id, instance, client)


AllowedSource = Depends(allowed_source)
