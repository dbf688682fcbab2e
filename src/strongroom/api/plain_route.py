"""A route whose handler takes the Request and returns the Response itself.

FastAPI's request handler solves the route's dependencies and reads and validates its body and
answer; for a handler that needs none of that it is pure cost, more than a policy decision
(docs/benchmarks.md, "Authorization over HTTP"). `get_route_handler` is FastAPI's documented
seam for a custom route class; the route keeps its place in the OpenAPI document, its declared
IAM action and the app's exception handlers (Starlette wraps every route's handler in them)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class PlainRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return handler
