"""Every route is authorized by the policy engine: an identity may do exactly what its policies
grant, and the owner's access comes from real policies created with the account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from strongroom.access.owner import ADMINISTRATOR, MANAGER
from strongroom.access.records import new_record
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"


def grant(server: LiveServer, iam_id: str, roles: list[str], service: str = "iam-identity") -> None:
    """Store a policy directly (the Policy Management API has its own tests)."""
    document = {
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": iam_id}]},
        "resource": {
            "attributes": [
                {"key": "accountId", "operator": "stringEquals", "value": server.account_id},
                {"key": "serviceName", "operator": "stringEquals", "value": service},
            ]
        },
        "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
    }
    with server.runtime.uow(write=True) as unit:
        record = new_record(
            document,
            version="v2",
            account_id=server.account_id,
            by=server.iam_id,
            now=datetime.now(UTC),
        )
        unit.policies.add(record)
        unit.revisions.bump(server.account_id)
    server.container.authorizer.invalidate(server.account_id)


def new_service_id(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> tuple[str, str]:
    body = {
        "account_id": server.account_id,
        "name": f"app-{uuid.uuid4().hex[:6]}",
        "apikey": {"name": "k"},
    }
    created = http.post("/v1/serviceids/", json=body, headers=bearer)
    assert created.status_code == 201
    return created.json()["iam_id"], created.json()["apikey"]["apikey"]


def test_the_owner_holds_real_policies(server: LiveServer) -> None:
    with server.runtime.uow() as uow:
        policies = uow.policies.active_in(server.account_id)
    owners = [p for p in policies if p.subject_iam_id == server.iam_id]
    assert {p.service_type for p in owners} == {"platform_service", "service"}
    for p in owners:
        roles = [r["role_id"] for r in p.document["control"]["grant"]["roles"]]  # type: ignore[index]
        assert roles == [ADMINISTRATOR, MANAGER]


def test_an_identity_without_policies_is_refused_with_a_reason(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    iam_id, key = new_service_id(server, http, bearer)
    theirs = {"Authorization": f"Bearer {token_for(http, key)}"}
    refused = http.get("/v1/serviceids/", headers=theirs)
    assert refused.status_code == 403
    message = refused.json()["errors"][0]["message"]
    assert iam_id in message and "iam-identity.serviceid.list" in message and "no policy" in message


def test_an_identity_may_do_exactly_what_its_roles_grant(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    iam_id, key = new_service_id(server, http, bearer)
    grant(server, iam_id, [VIEWER])
    theirs = {"Authorization": f"Bearer {token_for(http, key)}"}
    assert http.get("/v1/serviceids/", headers=theirs).status_code == 200
    create = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "x"}, headers=theirs
    )
    assert create.status_code == 403
    assert "needs Administrator or ServiceIdCreator" in create.json()["errors"][0]["message"]
    # Seed 003 table 5: an Editor deletes IDs but does not create them.
    grant(server, iam_id, ["crn:v1:bluemix:public:iam::::role:Editor"])
    victim = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "v"}, headers=bearer
    )
    assert http.delete(f"/v1/serviceids/{victim.json()['id']}", headers=theirs).status_code == 204
    create = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "x"}, headers=theirs
    )
    assert create.status_code == 403
    grant(server, iam_id, ["crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator"])
    create = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "x"}, headers=theirs
    )
    assert create.status_code == 201


def test_roles_held_names_the_owners_roles_everywhere(server: LiveServer) -> None:
    from strongroom.tokens.claims import Principal

    owner = Principal(server.iam_id, server.account_id, None, {})
    authorizer = server.container.authorizer
    for service in ("kms", "iam-identity"):
        held = authorizer.roles_held(
            owner, {"accountId": server.account_id, "serviceName": service}
        )
        assert held == {ADMINISTRATOR, MANAGER}
    elsewhere = authorizer.roles_held(owner, {"accountId": "f" * 32, "serviceName": "kms"})
    assert elsewhere == frozenset()
