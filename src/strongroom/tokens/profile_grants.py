"""The trusted-profile grants of the token endpoint (spec §3.1):

- `urn:ibm:params:oauth:grant-type:assume`: a user or service ID presents an access token this
  server issued and names a profile (`profile_id`, `profile_crn`, or `profile_name` + `account`);
- `urn:ibm:params:oauth:grant-type:cr-token`: a compute resource presents its own token, signed by
  a trusted issuer (tokens/cr_tokens.py), with `profile_id` and/or `profile_name`.

The token issued is the profile's (spec §3.3): `iam_id` `iam-Profile-…`, `sub` `Profile-…`,
`sub_type` `Profile`, `account.bss` the profile's account, and `authn` naming who assumed it.
Its access is the profile's own policies; the caller's do not carry over.

A profile that does not exist and one the caller may not use get the same answer, so token
requests cannot probe for profiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strongroom.errors import TokenGrantError, Unauthenticated
from strongroom.identity.profile_models import Profile
from strongroom.identity.profile_requests import ProfileSelector
from strongroom.identity.profiles import ProfileService
from strongroom.tokens.claims import (
    ASSUME_GRANT,
    CR_TOKEN_GRANT,
    PROFILE_SUB_TYPE,
    Subject,
)
from strongroom.tokens.cr_tokens import CrTokenError, CrTokenVerifier
from strongroom.tokens.service import TokenResponse, TokenService

# IBM's BXNIM family (spec §1 fact 1); these codes are ours, the spec shows none for profiles.
BAD_ACCESS_TOKEN = "BXNIM0406E"  # noqa: S105 (an error code)
PROFILE_REFUSED = "BXNIM0514E"
BAD_CR_TOKEN = "BXNIM0530E"  # noqa: S105 (an error code)
NO_CR_ISSUERS = "BXNIM0531E"

REFUSED = "The trusted profile does not exist or may not be used with this token."
CALLER_TYPES = ("ServiceId", None)  # service IDs and users assume profiles; profiles do not


def profile_subject(profile: Profile, authn: Mapping[str, Any]) -> Subject:
    return Subject(
        iam_id=profile.iam_id,
        account_id=profile.account_id,
        realm="iam",
        identifier=profile.id,
        sub=profile.id,
        sub_type=PROFILE_SUB_TYPE,
        name=profile.name,
        authn=authn,
    )


class ProfileGrants:
    def __init__(
        self, tokens: TokenService, profiles: ProfileService, cr_tokens: CrTokenVerifier | None
    ) -> None:
        self._tokens = tokens
        self._profiles = profiles
        self._cr_tokens = cr_tokens  # None: no compute-resource issuer is configured

    def assume(self, access_token: str, selector: ProfileSelector) -> TokenResponse:
        try:
            caller = self._tokens.verify(access_token)
        except Unauthenticated as exc:
            raise TokenGrantError(
                BAD_ACCESS_TOKEN, f"The access token is not valid: {exc.message}."
            ) from exc
        if caller.sub_type not in CALLER_TYPES:
            raise TokenGrantError(PROFILE_REFUSED, REFUSED)
        profile = self._profiles.profile_to_assume(selector, caller.iam_id, caller.account_id)
        if profile is None:
            raise TokenGrantError(PROFILE_REFUSED, REFUSED)
        original = caller.claims.get("authn")
        authn = (
            dict(original)
            if isinstance(original, Mapping)
            else {"iam_id": caller.iam_id, "sub": caller.claims.get("sub", caller.iam_id)}
        )
        return self._tokens.issue_profile_token(profile_subject(profile, authn), ASSUME_GRANT)

    def exchange_cr_token(self, cr_token: str, selector: ProfileSelector) -> TokenResponse:
        if self._cr_tokens is None:
            raise TokenGrantError(
                NO_CR_ISSUERS, "This server trusts no compute-resource token issuer."
            )
        try:
            claims = self._cr_tokens.verify(cr_token)
        except CrTokenError as exc:
            raise TokenGrantError(BAD_CR_TOKEN, f"The CR token is not valid: {exc}.") from exc
        profile = self._profiles.profile_for_compute_resource(selector, claims)
        if profile is None:
            raise TokenGrantError(PROFILE_REFUSED, REFUSED)
        crn = claims.get("crn")
        sub = claims.get("sub")
        authn = {
            "iam_id": f"crn-{crn}" if isinstance(crn, str) else str(sub),
            "sub": str(sub if sub is not None else crn),
            "sub_type": "ComputeResource",
            "iss": str(claims["iss"]),
        }
        return self._tokens.issue_profile_token(profile_subject(profile, authn), CR_TOKEN_GRANT)
