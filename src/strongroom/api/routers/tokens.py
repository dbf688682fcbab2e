"""The IAM token service endpoints (spec §3): token grants, JWKS and OIDC discovery."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from strongroom.api.actions import public_route
from strongroom.api.deps import Services
from strongroom.api.throttle import admit
from strongroom.audit import context as audit_context
from strongroom.audit.events import GRANT_ACTIONS, GRANT_CREDENTIALS, UNKNOWN_GRANT_ACTION
from strongroom.errors import TokenGrantError
from strongroom.identity.profile_requests import ProfileSelector
from strongroom.tokens.claims import APIKEY_GRANT, ASSUME_GRANT, CR_TOKEN_GRANT, REFRESH_GRANT
from strongroom.tokens.service import BAD_CLIENT, BAD_REQUEST, TokenResponse

router = APIRouter()
FORM = "application/x-www-form-urlencoded"


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise TokenGrantError(BAD_REQUEST, "The request body is not valid form data.") from exc
    return {k: v[0] for k, v in pairs.items()}


def _client(request: Request, services: Services) -> str | None:
    """HTTP Basic client credentials, when sent (the IBM CLI sends `bx:bx`, spec §3.1)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise TokenGrantError(
            BAD_CLIENT, "The token endpoint accepts only Basic client credentials."
        )
    try:
        client_id, _, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise TokenGrantError(
            BAD_CLIENT, "The client credentials are not valid Basic credentials."
        ) from exc
    return services.tokens.client(client_id, secret)


async def _token(request: Request, services: Services) -> JSONResponse:
    source = admit(request, services)  # every grant, even a malformed one (reliability.md T4)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise TokenGrantError(BAD_REQUEST, f"The token request must be sent as {FORM}.")
    form = _form(await request.body())
    client_id = _client(request, services)
    grant = form.get("grant_type")
    # The exchange's audit event: its action, the kind of credential shown and the form's grant
    # fields, credentials stored only as salted hashes (audit/hashing.py).
    audit_context.note_grant(
        GRANT_ACTIONS.get(grant or "", UNKNOWN_GRANT_ACTION),
        GRANT_CREDENTIALS.get(grant or "", "none"),
        form,
    )
    if grant == APIKEY_GRANT:
        apikey = form.get("apikey")
        if not apikey:
            raise TokenGrantError(
                BAD_REQUEST, "Provided API key is missing: send the form field `apikey`."
            )
        result = await run_in_threadpool(
            _apikey_grant, services, apikey, source, client_id, form.get("scope")
        )
    elif grant == REFRESH_GRANT:
        refresh = form.get("refresh_token")
        if not refresh:
            raise TokenGrantError(BAD_REQUEST, "The form field `refresh_token` is missing.")
        result = await run_in_threadpool(services.tokens.refresh, refresh, client_id=client_id)
    elif grant in PROFILE_GRANTS:
        result = await run_in_threadpool(_profile_grant, grant, form, services)
    else:
        raise TokenGrantError(BAD_REQUEST, f"Unsupported grant_type `{grant}`.")
    return JSONResponse(result.body(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _apikey_grant(
    services: Services, apikey: str, source: str, client_id: str | None, scope: str | None
) -> TokenResponse:
    """Checked under the lockout and the per-key rate (identity/key_checks.py)."""
    found = services.key_checks.authenticate(apikey, source)
    return services.tokens.issue_for_apikey(found, client_id=client_id, scope=scope)


# -- trusted-profile grants (spec §3.1) ------------------------------------------------------------

PROFILE_GRANTS = (ASSUME_GRANT, CR_TOKEN_GRANT)


def _required(form: dict[str, str], field: str) -> str:
    value = form.get(field)
    if not value:
        raise TokenGrantError(BAD_REQUEST, f"The form field `{field}` is missing.")
    return value


def _profile_grant(grant: str, form: dict[str, str], services: Services) -> TokenResponse:
    selector = ProfileSelector(
        profile_id=form.get("profile_id") or None,
        profile_crn=form.get("profile_crn") or None,
        profile_name=form.get("profile_name") or None,
        account_id=form.get("account") or None,
    )
    if grant == ASSUME_GRANT:
        token = _required(form, "access_token")
        if not (selector.profile_id or selector.profile_crn or selector.profile_name):
            raise TokenGrantError(
                BAD_REQUEST,
                "Name the profile: `profile_id`, `profile_crn`, or `profile_name` with `account`.",
            )
        if selector.profile_name and not selector.account_id and not selector.profile_id:
            raise TokenGrantError(BAD_REQUEST, "`profile_name` needs `account`.")
        return services.profile_grants.assume(token, selector)
    token = _required(form, "cr_token")
    if not (selector.profile_id or selector.profile_name):
        raise TokenGrantError(BAD_REQUEST, "Name the profile: `profile_id` or `profile_name`.")
    return services.profile_grants.exchange_cr_token(token.strip(), selector)


@router.post("/identity/token", **public_route())
async def identity_token(request: Request, services: Services) -> JSONResponse:
    return await _token(request, services)


@router.post("/oidc/token", **public_route())
async def oidc_token(request: Request, services: Services) -> JSONResponse:
    return await _token(request, services)


@router.get("/identity/keys", **public_route())
def identity_keys(services: Services) -> dict[str, Any]:
    return services.tokens.jwks()


@router.get("/oidc/jwks", **public_route())
def oidc_jwks(services: Services) -> dict[str, Any]:
    return services.tokens.jwks()


@router.get("/identity/.well-known/openid-configuration", **public_route())
def discovery(services: Services) -> dict[str, Any]:
    issuer = services.tokens.settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/keys",
        "grant_types_supported": [APIKEY_GRANT, REFRESH_GRANT, ASSUME_GRANT, CR_TOKEN_GRANT],
        "response_types_supported": ["cloud_iam"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "scopes_supported": ["ibm", "openid"],
        "claims_supported": [
            "iam_id",
            "id",
            "realmid",
            "sub",
            "sub_type",
            "account",
            "iat",
            "exp",
            "iss",
            "scope",
            "client_id",
        ],
    }
