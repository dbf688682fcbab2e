"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request):
a transaction id on every request and response, Key Protect's `Correlation-Id` on key management
answers, and the request body size cap."""

from __future__ import annotations

import json
import os
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.api.errors import edge_envelope
from strongroom.api.kms_wire import is_kms_path

TRACE_HEADERS = (b"transaction-id", b"x-global-transaction-id", b"x-request-id")
# spec kms-api.md §1.2: go always sends `correlation-id`, py3 `Correlation-Id` when asked and
# always `X-Correlation-ID` and `X-Request-Id`. The answer echoes the first one present.
CORRELATION_HEADERS = (b"correlation-id", b"x-correlation-id", b"x-request-id")


def _first(headers: dict[bytes, bytes], names: tuple[bytes, ...]) -> str | None:
    return next((headers[h].decode("latin-1")[:128] for h in names if h in headers), None)


class RequestContext:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        state = scope.setdefault("state", {})
        kms = is_kms_path(scope["path"])
        # A key management call without a transaction id is traced by its correlation id, so
        # the id a go client prints in its errors finds the server's log lines.
        trace = (
            _first(headers, TRACE_HEADERS + CORRELATION_HEADERS if kms else TRACE_HEADERS)
            or f"strongroom-{os.urandom(16).hex()}"  # uuid4's randomness, without its object
        )
        state["trace"] = trace
        trace_bytes = trace.encode("latin-1")
        added = [(b"transaction-id", trace_bytes), (b"x-global-transaction-id", trace_bytes)]
        if kms:
            state["correlation_id"] = _first(headers, CORRELATION_HEADERS) or trace
            added.append((b"correlation-id", state["correlation_id"].encode("latin-1")))

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
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
    """An error answered before the app runs, in the envelope api/errors.py gives its path."""
    body = json.dumps(
        edge_envelope(scope["method"], scope["path"], trace, status, code, message)
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
