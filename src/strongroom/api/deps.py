"""Request dependencies: the container, the verified caller, and the route's Guard.

They are `async def` on purpose: each is CPU-only (an attribute read, an RS256 verify), and a
plain `def` dependency costs a thread-pool round trip per request (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from strongroom.api.container import Container
from strongroom.audit import context as audit_context
from strongroom.authz import Guard
from strongroom.errors import Unauthenticated
from strongroom.tokens.claims import Principal


async def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


async def principal(request: Request, c: Annotated[Container, Depends(container)]) -> Principal:
    return verified_caller(request, c)


def verified_caller(request: Request, c: Container) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("the Authorization header is missing; send `Bearer <access token>`")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <access token>`")
    audit_context.note_credential(token.strip())  # stored hashed (reliability.md A3 c)
    caller = c.tokens.verify(token.strip())
    audit_context.note_caller(caller.iam_id, caller.account_id, caller.sub_type)
    return caller


async def guard(
    request: Request,
    caller: Annotated[Principal, Depends(principal)],
    c: Annotated[Container, Depends(container)],
) -> Guard:
    action = getattr(request.state, "iam_action", None)
    if action is None:
        raise RuntimeError(f"route {request.url.path} asks for a guard but declares no IAM action")
    # The connection's peer as uvicorn reports it: it reads `X-Forwarded-For` only from its
    # `--forwarded-allow-ips` (by default 127.0.0.1), so behind a local proxy it is the client.
    source = request.client.host if request.client else None
    return Guard(caller, action, c.authorizer, source=source)


def request_guard(request: Request, action: str) -> tuple[Guard, Container]:
    """`CurrentGuard` and `Services` without FastAPI's dependency solving, which cost more than
    the policy decision (the /v2/authz routes use it, passing the action their decorator
    declares; docs/benchmarks.md). The same checks in the same order: the bearer token, then
    the route's action on whatever the handler touches."""
    c: Container = request.app.state.container
    source = request.client.host if request.client else None
    return Guard(verified_caller(request, c), action, c.authorizer, source=source), c


Services = Annotated[Container, Depends(container)]
CurrentGuard = Annotated[Guard, Depends(guard)]
