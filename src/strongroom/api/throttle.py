"""The per-source request rate of the token endpoint and API key checks (reliability.md T4).

The source is the connection's peer as uvicorn reports it; behind a proxy, uvicorn takes it from
`X-Forwarded-For` only when the proxy is in `--forwarded-allow-ips` (docs/deployment.md), so a
client cannot pick its own source.
"""

from __future__ import annotations

from fastapi import Request

from strongroom.api.container import Container
from strongroom.errors import TooManyRequests
from strongroom.ratelimit import source_key


def source_of(request: Request) -> str:
    return source_key(request.client.host if request.client else None)


def admit(request: Request, container: Container) -> str:
    """The request's source, once it has spent from its bucket; TooManyRequests past the rate."""
    source = source_of(request)
    wait = container.source_limits.take(source)
    if wait:
        raise TooManyRequests(
            f"too many requests from this address; retry after {wait} s", retry_after=wait
        )
    return source
