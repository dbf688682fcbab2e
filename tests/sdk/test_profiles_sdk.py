"""Trusted profiles through the official SDK against a live server, on SQLite and PostgreSQL:
`IamIdentityV1` profile operations (spec §4.3), `IAMAssumeAuthenticator` (assume grant) and
`ContainerAuthenticator` (cr-token grant, with a compute-resource issuer the server trusts)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import ContainerAuthenticator, IAMAssumeAuthenticator
from ibm_platform_services import IamIdentityV1
from ibm_platform_services.iam_identity_v1 import (
    ProfileClaimRule,
    ProfileLink,
    TrustedProfile,
)

from strongroom.testing.server import LiveServer
from tests.conftest import SERVER_BACKENDS, start_server
from tests.sdk.conftest import identity_client

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
ISSUER = "https://cr.example.test"
EC_ISSUER = "https://ec.example.test"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def condition(claim: str, value: Any, operator: str = "EQUALS") -> dict[str, str]:
    return {"claim": claim, "operator": operator, "value": json.dumps(value)}


def grant_viewer_on_identity(server: LiveServer, iam_id: str) -> None:
    """A policy naming the profile: Viewer on IAM Identity in the account."""
    body = {
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": iam_id}]},
        "resource": {
            "attributes": [
                {"key": "accountId", "operator": "stringEquals", "value": server.account_id},
                {"key": "serviceName", "operator": "stringEquals", "value": "iam-identity"},
            ]
        },
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post(
            "/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": server.apikey},
        ).json()["access_token"]
        made = http.post("/v2/policies", json=body, headers={"Authorization": f"Bearer {token}"})
        assert made.status_code == 201, made.text


def new_service_id_key(iam: IamIdentityV1, server: LiveServer) -> tuple[dict[str, Any], str]:
    sid = iam.create_service_id(
        account_id=server.account_id, name=unique("assumer"), apikey={"name": "k"}
    ).get_result()
    return sid, sid["apikey"]["apikey"]


def test_profile_lifecycle_with_if_match(server: LiveServer, iam: IamIdentityV1) -> None:
    name = unique("Python-SDK-IT-Profile")
    created = iam.create_profile(
        name=name, account_id=server.account_id, description="first", email="ops@example.com"
    )
    assert created.get_status_code() == 201
    profile = created.get_result()
    TrustedProfile.from_dict(profile)
    assert profile["id"].startswith("Profile-") and profile["iam_id"] == f"iam-{profile['id']}"
    assert profile["crn"] == (
        f"crn:v1:bluemix:public:iam-identity::a/{server.account_id}::profile:{profile['id']}"
    )
    got = iam.get_profile(profile_id=profile["id"])
    etag = got.get_headers()["Etag"]
    assert etag == got.get_result()["entity_tag"] == profile["entity_tag"]

    updated = iam.update_profile(
        profile_id=profile["id"], if_match=etag, name=name + "-2", description="second"
    )
    body = updated.get_result()
    assert (body["name"], body["description"], body["email"]) == (
        name + "-2",
        "second",
        "ops@example.com",
    )
    assert (
        body["entity_tag"].startswith("2-") and updated.get_headers()["ETag"] == body["entity_tag"]
    )
    with pytest.raises(ApiException) as stale:
        iam.update_profile(profile_id=profile["id"], if_match=etag, name="lost")
    assert stale.value.code == 412
    with pytest.raises(ApiException) as taken:
        iam.create_profile(name=name + "-2", account_id=server.account_id)
    assert taken.value.code == 409

    assert iam.delete_profile(profile_id=profile["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_profile(profile_id=profile["id"])
    assert gone.value.code == 404 and profile["id"] in gone.value.message
    with pytest.raises(ApiException) as invalid:
        iam.create_profile(name="x", account_id="invalid")
    assert invalid.value.code == 400


def test_list_filter_and_pagination(server: LiveServer, iam: IamIdentityV1) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"Python-{tag}-{n}" for n in range(5)]
    for name in names:
        iam.create_profile(name=name, account_id=server.account_id)
    seen: list[str] = []
    token = None
    while True:
        page = iam.list_profiles(
            account_id=server.account_id,
            filter=f'name co "{tag}"',
            pagesize=2,
            pagetoken=token,
            sort="name",
        ).get_result()
        seen += [p["name"] for p in page["profiles"]]
        if "next" not in page:
            break
        token = httpx.URL(page["next"]).params["pagetoken"]
    assert seen == names
    exact = iam.list_profiles(account_id=server.account_id, name=names[3]).get_result()
    assert [p["name"] for p in exact["profiles"]] == [names[3]]


def test_claim_rules_crud(server: LiveServer, iam: IamIdentityV1) -> None:
    pid = iam.create_profile(name=unique("rules"), account_id=server.account_id).get_result()["id"]
    conditions = [condition("blueGroups", "cloud-docs-dev")]
    made = iam.create_claim_rule(
        profile_id=pid,
        type="Profile-SAML",
        realm_name="https://sdk.test.realm/1234",
        expiration=43200,
        conditions=conditions,
        name="saml",
    )
    assert made.get_status_code() == 201
    rule = made.get_result()
    ProfileClaimRule.from_dict(rule)
    assert rule["conditions"] == conditions  # the stringified JSON value echoes exactly
    got = iam.get_claim_rule(profile_id=pid, rule_id=rule["id"])
    etag = got.get_headers()["Etag"]
    updated = iam.update_claim_rule(
        profile_id=pid,
        rule_id=rule["id"],
        if_match=etag,
        type="Profile-CR",
        cr_type="IKS_SA",
        conditions=[condition("namespace", "prod")],
    ).get_result()
    assert (updated["type"], updated["cr_type"]) == ("Profile-CR", "IKS_SA")
    with pytest.raises(ApiException) as stale:
        iam.update_claim_rule(
            profile_id=pid,
            rule_id=rule["id"],
            if_match=etag,
            type="Profile-CR",
            cr_type="VSI",
            conditions=conditions,
        )
    assert stale.value.code == 412
    listed = iam.list_claim_rules(profile_id=pid).get_result()["rules"]
    assert [r["id"] for r in listed] == [rule["id"]]
    assert iam.delete_claim_rule(profile_id=pid, rule_id=rule["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_claim_rule(profile_id=pid, rule_id=rule["id"])
    assert gone.value.code == 404 and rule["id"] in gone.value.message


def test_links_crud(server: LiveServer, iam: IamIdentityV1) -> None:
    pid = iam.create_profile(name=unique("links"), account_id=server.account_id).get_result()["id"]
    crn = f"crn:v1:staging:public:iks:us-south:a/{server.account_id}::cluster:c1"
    made = iam.create_link(
        profile_id=pid,
        name="nice link",
        cr_type="ROKS_SA",
        link={"crn": crn, "namespace": "default", "name": "nice name"},
    )
    assert made.get_status_code() == 201
    link = made.get_result()
    ProfileLink.from_dict(link)
    assert link["link"] == {"crn": crn, "namespace": "default", "name": "nice name"}
    assert iam.get_link(profile_id=pid, link_id=link["id"]).get_result() == link
    second = iam.create_link(
        profile_id=pid, cr_type="VSI", link={"crn": crn.replace("c1", "vm")}
    ).get_result()
    assert [k["id"] for k in iam.list_links(profile_id=pid).get_result()["links"]] == [
        link["id"],
        second["id"],
    ]
    assert iam.delete_link(profile_id=pid, link_id=link["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_link(profile_id=pid, link_id=link["id"])
    assert gone.value.code == 404
    deleted = iam.delete_link_by_parameters(profile_id=pid, type="VSI", crn=crn.replace("c1", "vm"))
    assert deleted.get_status_code() == 204
    assert iam.list_links(profile_id=pid).get_result()["links"] == []


def test_identities(server: LiveServer, iam: IamIdentityV1) -> None:
    pid = iam.create_profile(name=unique("ids"), account_id=server.account_id).get_result()["id"]
    first = iam.get_profile_identities(profile_id=pid).get_result()
    assert first["identities"] == []
    user = {
        "identifier": server.iam_id,
        "type": "user",
        "accounts": [server.account_id],
        "description": "the owner",
    }
    answer = iam.set_profile_identities(profile_id=pid, if_match="*", identities=[user])
    body = answer.get_result()
    assert body["identities"] == [{**user, "iam_id": server.iam_id}]
    assert body["entity_tag"] != first["entity_tag"]
    with pytest.raises(ApiException) as stale:
        iam.set_profile_identities(profile_id=pid, if_match=first["entity_tag"], identities=[])
    assert stale.value.code == 412

    one = iam.set_profile_identity(
        profile_id=pid, identity_type="serviceid", identifier="ServiceId-1234", type="serviceid"
    ).get_result()
    assert one["iam_id"] == "iam-ServiceId-1234"
    got = iam.get_profile_identity(
        profile_id=pid, identity_type="serviceid", identifier_id="ServiceId-1234"
    ).get_result()
    assert got == one
    deleted = iam.delete_profile_identity(
        profile_id=pid, identity_type="serviceid", identifier_id="ServiceId-1234"
    )
    assert deleted.get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_profile_identity(
            profile_id=pid, identity_type="serviceid", identifier_id="ServiceId-1234"
        )
    assert gone.value.code == 404
    left = iam.get_profile_identities(profile_id=pid).get_result()["identities"]
    assert [i["identifier"] for i in left] == [server.iam_id]


def assume_client(server: LiveServer, apikey: str, **profile: str) -> IamIdentityV1:
    client = IamIdentityV1(
        authenticator=IAMAssumeAuthenticator(apikey=apikey, url=server.url, **profile)
    )
    client.set_service_url(server.url)
    return client


def test_assume_gets_the_profiles_access_and_only_that(
    server: LiveServer, iam: IamIdentityV1
) -> None:
    profile = iam.create_profile(name=unique("assumed"), account_id=server.account_id).get_result()
    sid, key = new_service_id_key(iam, server)
    iam.set_profile_identity(
        profile_id=profile["id"], identity_type="serviceid", identifier=sid["id"], type="serviceid"
    )
    grant_viewer_on_identity(server, profile["iam_id"])

    as_profile = assume_client(server, key, iam_profile_id=profile["id"])
    claims = claims_of(as_profile.authenticator.token_manager.get_token())
    assert (claims["iam_id"], claims["sub"], claims["sub_type"]) == (
        profile["iam_id"],
        profile["id"],
        "Profile",
    )
    assert claims["id"] == profile["iam_id"] and claims["account"]["bss"] == server.account_id
    assert claims["authn"]["iam_id"] == sid["iam_id"]
    assert claims["grant_type"] == "urn:ibm:params:oauth:grant-type:assume"
    # Viewer through the profile's policy: reads work, creating is refused.
    assert as_profile.list_service_ids(account_id=server.account_id).get_status_code() == 200
    with pytest.raises(ApiException) as refused:
        as_profile.create_service_id(account_id=server.account_id, name="nope")
    assert refused.value.code == 403
    # The service ID itself has no policy: its own access does not carry over, nor the reverse.
    with pytest.raises(ApiException) as own:
        identity_client(server, key).list_service_ids(account_id=server.account_id)
    assert own.value.code == 403

    by_crn = assume_client(server, key, iam_profile_crn=profile["crn"])
    assert claims_of(by_crn.authenticator.token_manager.get_token())["sub"] == profile["id"]
    by_name = assume_client(
        server, key, iam_profile_name=profile["name"], iam_account_id=server.account_id
    )
    assert claims_of(by_name.authenticator.token_manager.get_token())["sub"] == profile["id"]

    # Deleting the profile removes its policies: its token no longer reads anything.
    iam.delete_profile(profile_id=profile["id"])
    with pytest.raises(ApiException) as after:
        as_profile.list_service_ids(account_id=server.account_id)
    assert after.value.code == 403


def test_identities_not_listed_are_refused_like_missing_profiles(
    server: LiveServer, iam: IamIdentityV1
) -> None:
    profile = iam.create_profile(name=unique("closed"), account_id=server.account_id).get_result()
    _, key = new_service_id_key(iam, server)
    messages = []
    for target in (profile["id"], f"Profile-{uuid.uuid4()}"):
        with pytest.raises(ApiException) as refused:
            assume_client(
                server, key, iam_profile_id=target
            ).authenticator.token_manager.get_token()
        assert refused.value.code == 400
        messages.append(refused.value.message)
    assert messages[0] == messages[1]


# -- compute resources ----------------------------------------------------------------------------


class Issuers:
    def __init__(self, directory: Path) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        pem = self.ec.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.path = directory / "issuers.json"
        self.path.write_text(
            json.dumps(
                {
                    ISSUER: {"jwks": {"keys": [{**jwk, "kid": "k1"}]}},
                    EC_ISSUER: {"public_key_pem": pem.decode()},
                }
            )
        )
        self.directory = directory

    def token_file(self, claims: dict[str, Any], *, key: Any = None, alg: str = "RS256") -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "iat": now, "exp": now + 600, **claims}
        headers = {"kid": "k1"} if alg == "RS256" else {}
        token = jwt.encode(body, key or self.rsa, algorithm=alg, headers=headers)
        path = self.directory / f"cr-{uuid.uuid4().hex}.jwt"
        path.write_text(token + "\n")
        return str(path)


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def cr_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Issuers]]:
    directory = tmp_path_factory.mktemp("cr")
    issuers = Issuers(directory)
    with ExitStack() as stack:
        server = start_server(
            str(request.param),
            str(directory),
            stack,
            settings_overrides={"cr_token_issuers": issuers.path},
        )
        yield server, issuers


def cr_token(server: LiveServer, token_file: str, **profile: str) -> dict[str, Any]:
    authenticator = ContainerAuthenticator(cr_token_filename=token_file, url=server.url, **profile)
    return claims_of(authenticator.token_manager.get_token())


def test_compute_resources_get_profile_tokens_by_link_and_by_rule(
    cr_world: tuple[LiveServer, Issuers],
) -> None:
    server, issuers = cr_world
    iam = identity_client(server)
    vm = f"crn:v1:staging:public:is:us-south:a/{server.account_id}::instance:vm-1"
    linked = iam.create_profile(name="linked", account_id=server.account_id).get_result()
    iam.create_link(profile_id=linked["id"], cr_type="VSI", link={"crn": vm})
    claims = cr_token(
        server,
        issuers.token_file({"sub": "vm-1", "crn": vm, "cr_type": "VSI"}),
        iam_profile_id=linked["id"],
    )
    assert (claims["iam_id"], claims["sub_type"]) == (linked["iam_id"], "Profile")
    assert claims["grant_type"] == "urn:ibm:params:oauth:grant-type:cr-token"
    assert claims["authn"]["iam_id"] == f"crn-{vm}"

    cluster = (
        f"crn:v1:staging:public:containers-kubernetes:us-south:a/{server.account_id}::cluster:k"
    )
    ruled = iam.create_profile(name="ruled", account_id=server.account_id).get_result()
    iam.create_claim_rule(
        profile_id=ruled["id"],
        type="Profile-CR",
        cr_type="IKS_SA",
        conditions=[condition("namespace", "prod"), condition("name", ["app", "web"], "IN")],
    )
    prod = {
        "crn": cluster,
        "cr_type": "IKS_SA",
        "namespace": "prod",
        "name": "web",
        "iss": EC_ISSUER,
    }
    # By name: the account comes from the resource's CRN (ContainerAuthenticator sends no account).
    claims = cr_token(
        server, issuers.token_file(prod, key=issuers.ec, alg="ES256"), iam_profile_name="ruled"
    )
    assert claims["iam_id"] == ruled["iam_id"]

    # Refused, all with one answer: another namespace, a wrong signature, an expired token, an
    # issuer the server does not trust, a profile with no link for the resource.
    refusals = [
        (issuers.token_file({**prod, "namespace": "dev"}, key=issuers.ec, alg="ES256"), ruled),
        (issuers.token_file({"crn": vm, "cr_type": "VSI"}, key=issuers.stranger), linked),
        (issuers.token_file({"crn": vm, "cr_type": "VSI", "exp": int(time.time()) - 120}), linked),
        (issuers.token_file({"crn": vm, "cr_type": "VSI", "iss": "https://evil.test"}), linked),
        (issuers.token_file({"crn": vm.replace("vm-1", "vm-2"), "cr_type": "VSI"}), linked),
    ]
    for token_file, profile in refusals:
        with pytest.raises(ApiException) as refused:
            cr_token(server, token_file, iam_profile_id=profile["id"])
        assert refused.value.code == 400, token_file
