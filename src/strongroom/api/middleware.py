"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request):
a transaction id on every request and response, and the request body size cap."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRACE_HEADERS = (b"transaction-id", b"x-global-transaction-id", b"x-request-id")


class RequestContext:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        trace = next(
            (headers[h].decode("latin-1")[:128] for h in TRACE_HEADERS if h in headers),
            f"strongroom-{uuid.uuid4().hex}",
        )
        scope.setdefault("state", {})["trace"] = trace
        trace_bytes = trace.encode("latin-1")

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"transaction-id", trace_bytes),
                    (b"x-global-transaction-id", trace_bytes),
                ]
            await send(message)

        # PostgreSQL text cannot hold NUL; refusing it here keeps both backends alike.
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in target or b"\x00" in target:
            await _refuse(
                scope,
                send_with_trace,
                trace,
                400,
                "bad_request",
                "the URL contains a NUL character",
            )
            return

        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            message = f"the request body is larger than {self.max_body_bytes} bytes"
            await _refuse(scope, send_with_trace, trace, 413, "request_too_large", message)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # A chunked body that outgrows the cap: stop reading; the app sees a bad body.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counting_receive, send_with_trace)


async def _refuse(
    scope: Scope, send: Any, trace: str, status: int, code: str, message: str
) -> None:
    """An error answered before the app runs, in the same envelope api/errors.py uses."""
    body = json.dumps(
        {
            "trace": trace,
            "errors": [
                {"code": code, "message": message, "more_info": "docs/user-guide.md#errors"}
            ],
            "status_code": status,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
