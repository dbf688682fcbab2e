"""The pure parts of trusted profiles: request checks, who may assume a profile, which compute
resources its links and Profile-CR rules admit, and compute-resource token verification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from strongroom.errors import Invalid
from strongroom.identity.claim_rules import ClaimCondition
from strongroom.identity.models import Versioned
from strongroom.identity.profile_models import (
    ClaimRule,
    IdentityType,
    LinkTarget,
    Profile,
    ProfileIdentity,
    ProfileLink,
    RuleType,
)
from strongroom.identity.profile_requests import check_identity, check_link, check_rule
from strongroom.identity.profile_trust import admits_compute_resource, may_assume
from strongroom.tokens.cr_tokens import (
    CrTokenError,
    CrTokenVerifier,
    IssuerConfigError,
    parse_issuers,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HOME = "a" * 32
ELSEWHERE = "b" * 32
VM = f"crn:v1:bluemix:public:is:us-south:a/{HOME}::instance:vm-1"
PROFILE = Profile(
    id="Profile-1",
    iam_id="iam-Profile-1",
    account_id=HOME,
    name="p",
    description="",
    email="",
    meta=Versioned(NOW, NOW, "IBMid-X", "1-x"),
    identities_tag="1-y",
)


class Frozen:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def link(cr_type: str = "VSI", crn: str = VM, cross: bool = False, **target: str) -> ProfileLink:
    return ProfileLink(
        "L", "Profile-1", "", cr_type, cross, LinkTarget(crn, **target), NOW, NOW, "1-z"
    )


def rule(cr_type: str, *conditions: ClaimCondition) -> ClaimRule:
    return ClaimRule(
        "R", "Profile-1", RuleType.CR, "", None, cr_type, 43200, conditions, NOW, NOW, "1-r"
    )


def test_only_listed_users_and_service_ids_assume_and_from_listed_accounts() -> None:
    entries = [
        ProfileIdentity("ServiceId-1", IdentityType.SERVICE_ID, "iam-ServiceId-1", (ELSEWHERE,)),
        ProfileIdentity("IBMid-U", IdentityType.USER, "IBMid-U"),
        ProfileIdentity(VM, IdentityType.CRN, f"crn-{VM}", (HOME,)),
    ]
    assert may_assume(PROFILE, entries, "iam-ServiceId-1", HOME)
    assert may_assume(PROFILE, entries, "iam-ServiceId-1", ELSEWHERE)  # listed account
    assert may_assume(PROFILE, entries, "IBMid-U", HOME)
    assert not may_assume(PROFILE, entries, "IBMid-U", ELSEWHERE)  # no accounts listed
    assert not may_assume(PROFILE, entries, "IBMid-OTHER", HOME)
    assert not may_assume(PROFILE, entries, f"crn-{VM}", HOME)  # CRN entries never assume


def test_links_match_the_resource_and_service_account() -> None:
    claims = {"crn": VM, "cr_type": "VSI"}
    assert admits_compute_resource(PROFILE, [link()], [], claims)
    assert admits_compute_resource(PROFILE, [link()], [], {"crn": VM})  # cr_type unstated
    assert not admits_compute_resource(PROFILE, [link("BMS")], [], claims)
    assert not admits_compute_resource(PROFILE, [link(crn=VM + "x")], [], claims)
    sa = link("IKS_SA", namespace="prod", name="web")
    pod = {"crn": VM, "cr_type": "IKS_SA", "namespace": "prod", "name": "web"}
    assert admits_compute_resource(PROFILE, [sa], [], pod)
    assert not admits_compute_resource(PROFILE, [sa], [], {**pod, "namespace": "dev"})
    foreign = VM.replace(HOME, ELSEWHERE)
    assert not admits_compute_resource(PROFILE, [link(crn=foreign)], [], {"crn": foreign})
    assert admits_compute_resource(PROFILE, [link(crn=foreign, cross=True)], [], {"crn": foreign})


def test_cr_rules_need_their_type_the_home_account_and_every_condition() -> None:
    prod = ClaimCondition("namespace", "EQUALS", '"prod"')
    web = ClaimCondition("name", "IN", '["web", "api"]')
    claims = {"crn": VM, "cr_type": "IKS_SA", "namespace": "prod", "name": "api"}
    assert admits_compute_resource(PROFILE, [], [rule("IKS_SA", prod, web)], claims)
    assert not admits_compute_resource(PROFILE, [], [rule("ROKS_SA", prod, web)], claims)
    assert not admits_compute_resource(
        PROFILE, [], [rule("IKS_SA", prod, web)], {**claims, "name": "db"}
    )
    foreign = {**claims, "crn": VM.replace(HOME, ELSEWHERE)}
    assert not admits_compute_resource(PROFILE, [], [rule("IKS_SA", prod)], foreign)


def test_request_checks_name_the_field() -> None:
    cond = [{"claim": "sub", "operator": "EQUALS", "value": '"x"'}]
    assert check_rule(type="Profile-CR", cr_type="CE", conditions=cond).expiration == 43200
    cases: list[tuple[dict[str, Any], str]] = [
        ({"type": "Profile-CR", "conditions": cond}, "cr_type"),
        ({"type": "Profile-SAML", "conditions": cond}, "realm_name"),
        (
            {"type": "Profile-SAML", "conditions": cond, "realm_name": "r", "cr_type": "VSI"},
            "cr_type",
        ),
        (
            {"type": "Profile-CR", "cr_type": "VSI", "conditions": cond, "expiration": 10**6},
            "expiration",
        ),
        (
            {"type": "Profile-CR", "cr_type": "VSI", "conditions": [{"claim": ""}]},
            "conditions[0].claim",
        ),
    ]
    for kwargs, field in cases:
        with pytest.raises(Invalid) as refused:
            check_rule(**kwargs)
        assert refused.value.field == field
    staging = "crn:v1:staging:public:iks:us-south:a/1::computeresource:x"
    assert check_link(cr_type="VSI", link={"crn": staging}, name=None, is_cross_account=None)
    with pytest.raises(Invalid) as refused:
        check_link(
            cr_type="ROKS_SA",
            link={"crn": staging, "namespace": "n"},
            name=None,
            is_cross_account=None,
        )
    assert refused.value.field == "link.name"
    assert (
        check_identity(identifier="iam-ServiceId-9", type="serviceid").iam_id == "iam-ServiceId-9"
    )
    assert check_identity(identifier=staging, type="crn").iam_id == f"crn-{staging}"


# -- compute-resource tokens ----------------------------------------------------------------------


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def issuers_file() -> str:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    pem = EC_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return json.dumps(
        {
            "https://rsa": {"jwks": {"keys": [{**jwk, "kid": "one"}]}},
            "https://ec": {"public_key_pem": pem.decode()},
        }
    )


def make(
    claims: dict[str, Any], key: Any = RSA_KEY, alg: str = "RS256", kid: str | None = "one"
) -> str:
    base = {"iss": "https://rsa", "exp": int(NOW.timestamp()) + 300, "crn": VM}
    return jwt.encode({**base, **claims}, key, algorithm=alg, headers={"kid": kid} if kid else None)


def test_cr_tokens_are_verified_on_the_injected_clock() -> None:
    clock = Frozen(NOW)
    verifier = CrTokenVerifier(parse_issuers(issuers_file()), clock, leeway=30)
    assert verifier.verify(make({}))["crn"] == VM
    assert (
        verifier.verify(make({"iss": "https://ec"}, EC_KEY, "ES256", None))["iss"] == "https://ec"
    )
    refused = [
        make({"iss": "https://elsewhere"}),
        make({}, rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        make({}, kid="two"),
        make({"exp": int(NOW.timestamp()) - 60}),
        make({"nbf": int(NOW.timestamp()) + 60}),
        make({"iss": "https://ec"}, RSA_KEY),  # an RSA signature for an EC issuer
        jwt.encode(
            {"iss": "https://rsa", "exp": int(NOW.timestamp()) + 300}, "s" * 32, algorithm="HS256"
        ),
        "not a token",
    ]
    for token in refused:
        with pytest.raises(CrTokenError):
            verifier.verify(token)
    clock.at = NOW + timedelta(seconds=331)
    with pytest.raises(CrTokenError, match="expired"):
        verifier.verify(make({}))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"i": {}}',
        '{"i": {"jwks": {"keys": [{"kty": "oct", "k": "AA"}]}}}',
        '{"i": {"public_key_pem": "nope"}}',
        '{"i": {"jwks": []}}',
    ],
)
def test_malformed_issuer_files_are_refused(text: str) -> None:
    with pytest.raises(IssuerConfigError):
        parse_issuers(text)
