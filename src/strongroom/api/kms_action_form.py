"""The deprecated `POST /api/v2/keys/{id}?action=<name>` form (spec kms-api.md §3 row 21),
still sent by older clients: its path is rewritten to the `/actions/<name>` route (or
`/restore`) before routing, so it is the same handler with the same declared IAM action."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

ACTIONS = frozenset(
    {"wrap", "unwrap", "rewrap", "rotate", "disable", "enable", "restore",
     "setKeyForDeletion", "unsetKeyForDeletion"}
)  # fmt: skip
_PREFIX = "/api/v2/keys/"


class ActionForm:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            rest = path[len(_PREFIX) :] if path.startswith(_PREFIX) else ""
            if rest and "/" not in rest:
                query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
                action = dict(query).get("action")
                if action in ACTIONS:
                    tail = "/restore" if action == "restore" else f"/actions/{action}"
                    remaining = urlencode([(k, v) for k, v in query if k != "action"])
                    scope = dict(scope)
                    scope["path"] = path + tail
                    scope["raw_path"] = (path + tail).encode()
                    scope["query_string"] = remaining.encode()
        await self.app(scope, receive, send)
