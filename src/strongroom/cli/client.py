"""HTTP to a strongroom server, as any client would send it, with IBM's error envelopes read back.

Everything that can go wrong on the wire becomes a `CliError` whose message is fit to show.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
REFRESH_GRANT = "refresh_token"
# The IBM CLI's public client: Basic `bx:bx` is what makes IAM return a usable refresh token.
CLI_CLIENT = ("bx", "bx")
PAGE_SIZE = 100  # IAM Identity's maximum
TIMEOUT = 30.0


class CliError(Exception):
    """A failure to report to the user as is. `status` is the HTTP status when the server
    refused the request, None when the failure is the CLI's own or the network's."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_message(response: httpx.Response) -> str:
    """The message in IBM's envelopes: `errors[0].message` (IAM Identity and the other APIs),
    `errorMessage` (the token service), or Key Protect's `errorMsg` with its reasons."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        kms = _kms_error(body)
        if kms is not None:
            return kms
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            if first.get("message"):
                return str(first["message"])
        if body.get("errorMessage"):
            return str(body["errorMessage"])
    return f"the server answered {response.status_code} {response.reason_phrase}".rstrip()


def _kms_error(body: dict[str, Any]) -> str | None:
    """Key Protect's error envelope (spec kms-api.md §1.5): `errorMsg`, then one line per
    reason, `CODE: message`, so the reason code a script branches on is always printed."""
    resources = body.get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
        return None
    first = resources[0]
    if "errorMsg" not in first:
        return None
    lines = [str(first["errorMsg"])]
    for reason in first.get("reasons") or []:
        if isinstance(reason, dict) and reason.get("code"):
            message = reason.get("message")
            lines.append(f"{reason['code']}: {message}" if message else str(reason["code"]))
    return "\n".join(lines)


class Client:
    """One server endpoint; `token` (an IAM access token) authenticates the API calls."""

    def __init__(
        self, endpoint: str, token: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.endpoint, timeout=TIMEOUT, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot connect to strongroom at {self.endpoint}: is the server running there?"
            ) from exc
        except httpx.HTTPError as exc:
            raise CliError(f"the request to {self.endpoint} failed: {exc}") from exc
        if response.is_error:
            raise CliError(error_message(response), response.status_code)
        return response

    # -- the token service ----------------------------------------------------------------------

    def grant(self, form: Mapping[str, str], *, as_cli: bool) -> dict[str, Any]:
        """POST /identity/token. `as_cli` sends the CLI's client credentials (and so gets a
        refresh token); without them IAM answers `refresh_token: not_supported`."""
        auth = httpx.BasicAuth(*CLI_CLIENT) if as_cli else None
        response = self._send("POST", "/identity/token", data=dict(form), auth=auth)
        return _json_object(response)

    def exchange_apikey(self, apikey: str, *, as_cli: bool) -> dict[str, Any]:
        form = {"grant_type": APIKEY_GRANT, "apikey": apikey, "response_type": "cloud_iam"}
        return self.grant(form, as_cli=as_cli)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        form = {"grant_type": REFRESH_GRANT, "refresh_token": refresh_token}
        return self.grant(form, as_cli=True)

    # -- the APIs -------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The JSON object the server answered, or None for an empty answer (204)."""
        if self.token is None:
            raise CliError("not logged in: run `strongroom login --apikey KEY`")
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        sent.update(headers or {})
        response = self._send(method, path, params=params, json=body, headers=sent)
        if response.status_code == 204 or not response.content:
            return None
        return _json_object(response)

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        return _required(self.call("GET", path, params=params), f"GET {path}")

    def post(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        return _required(self.call("POST", path, body=body, headers=headers), f"POST {path}")

    def lines(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[str]:
        """The lines of a JSON-lines answer (`application/x-ndjson`), as they arrive."""
        if self.token is None:
            raise CliError("not logged in: run `strongroom login --apikey KEY`")
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/x-ndjson"}
        try:
            with self._http.stream("GET", path, params=params, headers=headers) as response:
                if response.is_error:
                    response.read()
                    raise CliError(error_message(response), response.status_code)
                for line in response.iter_lines():
                    if line:
                        yield line
        except httpx.HTTPError as exc:
            raise CliError(f"the request to {self.endpoint} failed: {exc}") from exc

    def delete(self, path: str) -> None:
        self.call("DELETE", path)

    def items(
        self, path: str, key: str, params: Mapping[str, str | int]
    ) -> Iterator[dict[str, Any]]:
        """Every item of an IAM Identity list, page after page.

        Only the `pagetoken` is taken from `next`: the link's host is whatever the server saw,
        which behind a proxy need not be the endpoint this client was given.
        """
        query: dict[str, str | int] = {**params, "pagesize": PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = self.get(path, query)
            found = page.get(key)
            if not isinstance(found, list):
                raise CliError(f"the server's answer to GET {path} has no `{key}` list")
            yield from found
            token = _pagetoken(page.get("next"))
            if token is None or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)
            query["pagetoken"] = token


def _required(body: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if body is None:
        raise CliError(f"the server sent an empty answer to {what}")
    return body


def _pagetoken(link: object) -> str | None:
    if not isinstance(link, str) or not link:
        return None
    values = parse_qs(urlsplit(link).query).get("pagetoken")
    return values[0] if values else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise CliError(f"the server's answer to {response.request.url.path} is not JSON") from exc
    if not isinstance(body, dict):
        raise CliError(f"the server's answer to {response.request.url.path} is not a JSON object")
    return body
