"""The policy decision point over HTTP (spec ibm-platform-api.md §12): POST /v2/authz,
/v2/authz/roles and our /v2/authz/explain, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom import bootstrap
from strongroom.access.owner import ADMINISTRATOR, MANAGER
from strongroom.access.records import new_record
from strongroom.config import Settings
from strongroom.testing import FrozenClock, InProcessClient
from strongroom.testing.server import LiveServer
from tests.api.access_store import PolicyEntry, access_policy, store_access
from tests.api.conftest import token_for

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
FOREIGN = "f" * 32


def ask(
    subject: str | dict[str, Any],
    action: str,
    resource: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    if isinstance(subject, str):
        subject = {"attributes": {"id": subject}}
    body = {"subject": subject, "action": action, "resource": resource}
    return {**body, **extra}


def on(account: str, service: str, **attributes: str) -> dict[str, Any]:
    return {"attributes": {"accountId": account, "serviceName": service, **attributes}}


def permits(response: httpx.Response) -> list[bool]:
    assert response.status_code == 200, response.text
    return [r["authorizationDecision"]["permitted"] for r in response.json()["responses"]]


def message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


@pytest.fixture
def service_id(server: LiveServer, http: httpx.Client, bearer: dict[str, str]) -> dict[str, str]:
    """A new service ID with Viewer on iam-identity, and its own bearer header."""
    body = {
        "account_id": server.account_id,
        "name": f"pdp-{uuid.uuid4().hex[:6]}",
        "apikey": {"name": "k"},
    }
    created = http.post("/v1/serviceids/", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    iam_id = created.json()["iam_id"]
    store_access(
        server,
        server.account_id,
        [
            PolicyEntry(
                access_policy(iam_id, server.account_id, [VIEWER], serviceName="iam-identity")
            )
        ],
    )
    token = token_for(http, created.json()["apikey"]["apikey"])
    return {"iam_id": iam_id, "token": token, "Authorization": f"Bearer {token}"}


def test_decisions_come_back_in_request_order_in_ibms_shape(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], service_id: dict[str, str]
) -> None:
    acct = server.account_id
    body = [
        ask(
            server.iam_id,
            "kms.secrets.create",
            on(acct, "kms", serviceInstance="kp-1"),
            requestId="a",
        ),
        ask("IBMid-nobody", "kms.secrets.create", on(acct, "kms"), requestId="b"),
        ask(service_id["iam_id"], "iam-identity.serviceid.list", on(acct, "iam-identity")),
        ask(service_id["iam_id"], "iam-identity.serviceid.create", on(acct, "iam-identity")),
        ask(
            {"attributes": {"id": server.iam_id, "scope": "ibm openid"}},
            "kms.secrets.read",
            on(acct, "kms"),
            requestId=7,
        ),
    ]
    response = http.post("/v2/authz", json=body, headers=bearer)
    assert response.headers["content-type"] == "application/json"
    assert permits(response) == [True, False, True, False, True]
    first, second, third, _, fifth = response.json()["responses"]
    assert first == {
        "requestId": "a",
        "status": "200",
        "authorizationDecision": {
            "permitted": True,
            "obligation": {
                "actions": ["kms.secrets.create"],
                "maxCacheAgeSeconds": 600,
                "subject": {"attributes": {"id": server.iam_id}},
            },
        },
    }
    assert second["requestId"] == "b" and "reason" not in second
    assert "requestId" not in third
    assert third["authorizationDecision"]["obligation"]["actions"] == [
        "iam-identity.serviceid.list"
    ]
    assert fifth["requestId"] == 7
    assert fifth["authorizationDecision"]["obligation"]["subject"]["attributes"] == {
        "id": server.iam_id,
        "scope": "ibm openid",
    }


def test_the_vendor_media_types_are_answered_in_kind(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    body = [ask(server.iam_id, "kms.secrets.read", on(server.account_id, "kms"))]
    vendor = dict(bearer, Accept="application/vnd.authz.v2+json")
    response = http.post("/v2/authz", json=body, headers=vendor)
    assert response.headers["content-type"] == "application/vnd.authz.v2+json"
    assert permits(response) == [True]
    roles_body = [{"subject": body[0]["subject"], "resource": body[0]["resource"]}]
    roles_vendor = dict(bearer, Accept="application/vnd.authzroles.v2+json")
    roles = http.post("/v2/authz/roles", json=roles_body, headers=roles_vendor)
    assert roles.headers["content-type"] == "application/vnd.authzroles.v2+json"
    assert roles.status_code == 200


def test_a_bulk_call_carries_up_to_a_thousand_requests(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    acct = server.account_id
    body = [
        ask(
            server.iam_id if i % 2 == 0 else f"IBMid-x{i}",
            "kms.secrets.wrap",
            on(acct, "kms"),
            requestId=str(i),
        )
        for i in range(1000)
    ]
    response = http.post("/v2/authz", json=body, headers=bearer)
    assert permits(response) == [i % 2 == 0 for i in range(1000)]
    assert [r["requestId"] for r in response.json()["responses"]] == [str(i) for i in range(1000)]
    too_many = http.post("/v2/authz", json=[*body, body[0]], headers=bearer)
    assert too_many.status_code == 400
    assert "at most 1000" in message(too_many)
    assert http.post("/v2/authz", json=[], headers=bearer).json() == {"responses": []}


def test_a_resource_may_be_named_by_its_crn(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    sid = f"iam-ServiceId-{uuid.uuid4()}"
    acct = server.account_id
    store_access(
        server,
        acct,
        [
            PolicyEntry(
                access_policy(
                    sid,
                    acct,
                    [READER],
                    serviceName="kms",
                    serviceInstance="kp-9",
                    region="us-south",
                )
            )
        ],
    )
    crn = f"crn:v1:bluemix:public:kms:us-south:a/{acct}:kp-9:key:k-1"
    body = [
        ask(sid, "kms.secrets.wrap", {"crn": crn}),
        ask(sid, "kms.secrets.wrap", {"crn": crn.replace("kp-9", "kp-8")}),
        ask(sid, "kms.secrets.wrap", {"crn": crn.replace("us-south", "eu-de")}),
        ask(sid, "kms.secrets.delete", {"crn": crn}),
        # attributes may come beside the CRN when they agree with it
        ask(sid, "kms.secrets.wrap", {"crn": crn, "attributes": {"serviceInstance": "kp-9"}}),
    ]
    assert permits(http.post("/v2/authz", json=body, headers=bearer)) == [
        True,
        False,
        False,
        False,
        True,
    ]
    explained = http.post("/v2/authz/explain", json=body[:1], headers=bearer).json()
    assert explained["responses"][0]["policies"]
    bad = [body[0], ask(sid, "kms.secrets.wrap", {"crn": "crn:v1:bluemix:public:kms"})]
    refused = http.post("/v2/authz", json=bad, headers=bearer)
    assert refused.status_code == 400
    assert "`requests[1].resource.crn`" in message(refused)
    clash = [ask(sid, "kms.secrets.wrap", {"crn": crn, "attributes": {"serviceName": "cos"}})]
    refused = http.post("/v2/authz", json=clash, headers=bearer)
    assert refused.status_code == 400
    assert "`requests[0].resource.attributes.serviceName`" in message(refused)


def _payload(token: str) -> str:
    return token.split(".")[1]


def test_the_subject_may_come_as_an_access_token(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], service_id: dict[str, str]
) -> None:
    acct = server.account_id
    token = service_id["token"]
    segment = _payload(token)
    claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    listing = on(acct, "iam-identity")
    forms = [token, segment, json.dumps(claims)]
    body = [
        ask({"accessTokenBody": form}, "iam-identity.serviceid.list", listing) for form in forms
    ]
    body += [
        ask({"accessTokenBody": form}, "iam-identity.serviceid.create", listing) for form in forms
    ]
    response = http.post("/v2/authz", json=body, headers=bearer)
    assert permits(response) == [True, True, True, False, False, False]
    echoed = response.json()["responses"][0]["authorizationDecision"]["obligation"]["subject"]
    assert echoed["attributes"]["id"] == service_id["iam_id"]
    assert echoed["attributes"]["accountId"] == acct

    # A token acts only in its own account, and only until it expires; a forged one not at all.
    elsewhere = dict(claims, account=dict(claims["account"], bss=FOREIGN))
    expired = dict(claims, exp=claims["iat"] - 1)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    body = [
        ask({"accessTokenBody": json.dumps(elsewhere)}, "iam-identity.serviceid.list", listing),
        ask({"accessTokenBody": json.dumps(expired)}, "iam-identity.serviceid.list", listing),
        ask({"accessTokenBody": forged}, "iam-identity.serviceid.list", listing),
    ]
    explained = http.post("/v2/authz/explain", json=body, headers=bearer)
    assert permits(explained) == [False, False, False]
    assert permits(http.post("/v2/authz", json=body, headers=bearer)) == [False, False, False]
    reasons = [r["reason"] for r in explained.json()["responses"]]
    assert FOREIGN in reasons[0]
    assert "expired" in reasons[1]
    assert "token" in reasons[2]

    garbage = [ask({"accessTokenBody": "%%%not a token%%%"}, "kms.secrets.read", listing)]
    refused = http.post("/v2/authz", json=garbage, headers=bearer)
    assert refused.status_code == 400
    assert "`requests[0].subject.accessTokenBody`" in message(refused)


def test_a_caller_asks_only_about_accounts_it_may_ask_about(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], service_id: dict[str, str]
) -> None:
    acct = server.account_id
    own = ask(server.iam_id, "kms.secrets.read", on(acct, "kms"))
    foreign = ask(server.iam_id, "kms.secrets.read", on(FOREIGN, "kms"))
    assert permits(http.post("/v2/authz", json=[own], headers=bearer)) == [True]
    for path in ("/v2/authz", "/v2/authz/explain"):
        # One foreign item refuses the whole call: nothing is answered item by item.
        refused = http.post(path, json=[own, foreign, own], headers=bearer)
        assert refused.status_code == 403, refused.text
        assert "responses" not in refused.json()
        assert FOREIGN in message(refused)
        assert "iam-access-management.authz.check" in message(refused)
    roles_body = [{"subject": foreign["subject"], "resource": foreign["resource"]}]
    refused = http.post("/v2/authz/roles", json=roles_body, headers=bearer)
    assert refused.status_code == 403
    assert "iam-access-management.authz.roles" in message(refused)
    # An identity without access to the decision point may not ask even about its own account.
    refused = http.post(
        "/v2/authz", json=[own], headers={"Authorization": service_id["Authorization"]}
    )
    assert refused.status_code == 403
    # And nobody asks without a token, on any of the three routes; the token is checked before
    # the body is read, so a bad body does not tell an anonymous caller how it is bad.
    for path in ("/v2/authz", "/v2/authz/explain", "/v2/authz/roles"):
        assert http.post(path, json=[own]).status_code == 401
        anonymous = http.post(path, content=b"{not json", headers={"Authorization": "Bearer x.y.z"})
        assert anonymous.status_code == 401, anonymous.text


def test_explain_says_why_and_names_the_permitting_policies(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], service_id: dict[str, str]
) -> None:
    acct = server.account_id
    with server.runtime.uow() as uow:
        owners = {p.id for p in uow.policies.active_in(acct) if p.subject_iam_id == server.iam_id}
    body = [
        ask(server.iam_id, "kms.secrets.create", on(acct, "kms"), requestId="owner"),
        ask("IBMid-stranger", "kms.secrets.create", on(acct, "kms")),
        ask(service_id["iam_id"], "iam-identity.serviceid.create", on(acct, "iam-identity")),
        ask(server.iam_id, "kms.secrets.fly", on(acct, "kms")),
        ask(server.iam_id, "kms.secrets.read", {"attributes": {"serviceName": "kms"}}),
    ]
    response = http.post("/v2/authz/explain", json=body, headers=bearer)
    assert response.headers["content-type"] == "application/json"
    owner, stranger, viewer, unknown, nowhere = response.json()["responses"]
    assert owner["requestId"] == "owner"
    assert owner["authorizationDecision"]["permitted"] is True
    assert len(owner["policies"]) == 1 and set(owner["policies"]) <= owners
    assert owner["policies"][0] in owner["reason"]
    assert stranger["policies"] == [] and "no policy in account" in stranger["reason"]
    assert "needs Administrator or ServiceIdCreator" in viewer["reason"]
    assert unknown["authorizationDecision"]["permitted"] is False
    assert "no catalog defines the action `kms.secrets.fly`" in unknown["reason"]
    assert nowhere["authorizationDecision"]["permitted"] is False
    assert "accountId" in nowhere["reason"]


def test_the_moment_of_a_decision_may_be_given(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    acct = server.account_id
    sid = f"iam-ServiceId-{uuid.uuid4()}"
    office = access_policy(sid, acct, [READER], serviceName="kms")
    office["rule"] = {
        "operator": "and",
        "conditions": [
            {
                "key": "{{environment.attributes.day_of_week}}",
                "operator": "dayOfWeekAnyOf",
                "value": ["1+00:00", "2+00:00", "3+00:00", "4+00:00", "5+00:00"],
            },
            {
                "key": "{{environment.attributes.current_time}}",
                "operator": "timeGreaterThanOrEquals",
                "value": "09:00:00+00:00",
            },
            {
                "key": "{{environment.attributes.current_time}}",
                "operator": "timeLessThanOrEquals",
                "value": "17:00:00+00:00",
            },
        ],
    }
    office["pattern"] = "time-based-conditions:weekly:custom-hours"
    store_access(server, acct, [PolicyEntry(office)])

    def at(moment: Any, key: str = "current_date_time") -> dict[str, Any]:
        return ask(
            sid, "kms.secrets.wrap", on(acct, "kms"), environment={"attributes": {key: moment}}
        )

    body = [
        at("2026-01-05T10:00:00+00:00"),  # Monday, office hours
        at("2026-01-05T18:00:00+00:00"),  # Monday evening
        at("2026-01-10T10:00:00+00:00"),  # Saturday
        at("2026-01-05T19:00:00+09:00"),  # Monday 10:00 UTC, written in Tokyo time
        at("2026-01-05T10:00:00Z", key="current_time"),
    ]
    assert permits(http.post("/v2/authz", json=body, headers=bearer)) == [
        True,
        False,
        False,
        True,
        True,
    ]
    for bad in ("10:00:00", "2026-01-05T10:00:00", 5):
        refused = http.post("/v2/authz", json=[at(bad)], headers=bearer)
        assert refused.status_code == 400
        assert "`requests[0].environment.attributes.current_date_time`" in message(refused)


def test_without_a_moment_the_injected_clock_decides(tmp_path: Path) -> None:
    clock = FrozenClock(datetime(2026, 1, 5, 10, tzinfo=UTC))  # a Monday, 10:00 UTC
    key = "k" * 40
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", bootstrap_apikey=key)
    runtime = bootstrap.build(settings, clock)
    try:
        assert runtime.first_start is not None
        acct, owner = runtime.first_start.account.id, runtime.first_start.owner.iam_id
        sid = f"iam-ServiceId-{uuid.uuid4()}"
        office = access_policy(sid, acct, [READER], serviceName="kms")
        office["rule"] = {
            "key": "{{environment.attributes.current_time}}",
            "operator": "timeLessThan",
            "value": "12:00:00+00:00",
        }
        office["pattern"] = "time-based-conditions:weekly:custom-hours"
        with runtime.uow(write=True) as unit:
            unit.policies.add(
                new_record(office, version="v2", account_id=acct, by=owner, now=clock.now())
            )
            unit.revisions.bump(acct)
        runtime.container.authorizer.invalidate(acct)
        client = InProcessClient(runtime.app)
        body = [ask(sid, "kms.secrets.wrap", on(acct, "kms"))]

        def decided() -> list[bool]:
            grant = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key}
            token = client.post("/identity/token", data=grant).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            return permits(client.post("/v2/authz", json=body, headers=headers))

        assert decided() == [True]
        clock.advance(3 * 3600)  # 13:00: the rule no longer holds
        assert decided() == [False]
    finally:
        runtime.close()


def _role_actions(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    (only,) = response.json()["responses"]
    return list(only["roleActions"])


def test_roles_name_what_the_owner_holds_and_what_it_grants(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    body = [
        {
            "subject": {"attributes": {"id": server.iam_id}},
            "resource": {"crn": f"crn:v1:bluemix:public:kms:us-south:a/{server.account_id}:kp-1::"},
            "requestId": "r1",
        }
    ]
    response = http.post("/v2/authz/roles", json=body, headers=bearer)
    assert response.headers["content-type"] == "application/json"
    (item,) = response.json()["responses"]
    assert item["requestId"] == "r1"
    assert item["subjectId"] == {"userId": server.iam_id}
    held = {r["role"]["crn"]: r for r in item["roleActions"]}
    assert set(held) == {ADMINISTRATOR, MANAGER}
    assert held[ADMINISTRATOR]["role"]["displayName"] == "Administrator"
    assert held[MANAGER]["role"]["displayName"] == "Manager"
    manager = [a["action"] for a in held[MANAGER]["actions"]]
    assert "kms.secrets.create" in manager and "kms.secrets.purge" not in manager
    assert manager == sorted(manager)
    assert {"action": "kms.instances.create"} in held[ADMINISTRATOR]["actions"]


def test_roles_of_a_service_id_with_viewer_on_iam_identity(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], service_id: dict[str, str]
) -> None:
    subject = {"attributes": {"id": service_id["iam_id"]}}
    identity = {"subject": subject, "resource": on(server.account_id, "iam-identity")}
    response = http.post("/v2/authz/roles", json=[identity], headers=bearer)
    (item,) = response.json()["responses"]
    assert item["subjectId"] == {"serviceId": service_id["iam_id"]}
    (viewer,) = item["roleActions"]
    assert viewer["role"] == {"crn": VIEWER, "displayName": "Viewer"}
    actions = {a["action"] for a in viewer["actions"]}
    assert {"iam-identity.serviceid.list", "iam-identity.apikey.get"} <= actions
    assert "iam-identity.serviceid.create" not in actions
    kms = {"subject": subject, "resource": on(server.account_id, "kms")}
    assert _role_actions(http.post("/v2/authz/roles", json=[kms], headers=bearer)) == []
    # The service ID itself has no right to ask.
    own = http.post(
        "/v2/authz/roles", json=[identity], headers={"Authorization": service_id["Authorization"]}
    )
    assert own.status_code == 403


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"subject": {}}, "JSON array"),
        ("not json at all", "not valid JSON"),
        ([1], "`requests[0]`"),
        ([{"action": "kms.secrets.read", "resource": {"crn": "x"}}], "`requests[0].subject`"),
        (
            [{"subject": {"attributes": {"id": "IBMid-x"}}, "resource": {"attributes": {}}}],
            "`requests[0].action`",
        ),
        (
            [{"subject": {"attributes": {"id": "IBMid-x"}}, "action": 5, "resource": {}}],
            "`requests[0].action`",
        ),
        (
            [{"subject": {"attributes": {"id": "IBMid-x"}}, "action": "kms", "resource": {}}],
            "`requests[0].action`",
        ),
        (
            [{"subject": {"attributes": {"id": "IBMid-x"}}, "action": "kms.a.b"}],
            "`requests[0].resource`",
        ),
        (
            [{"subject": {"attributes": {"id": "IBMid-x"}}, "action": "kms.a.b", "resource": {}}],
            "`requests[0].resource`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"id": "IBMid-x"}},
                    "action": "kms.a.b",
                    "resource": {"attributes": {"accountId": 5}},
                }
            ],
            "`requests[0].resource.attributes.accountId`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"id": ["x"]}},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                }
            ],
            "`requests[0].subject.attributes.id`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"scope": "ibm"}},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                }
            ],
            "`requests[0].subject.attributes`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"id": "a"}, "accessTokenBody": "x"},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                }
            ],
            "`requests[0].subject`",
        ),
        (
            [
                {
                    "subject": {"accessTokenBody": 3},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                }
            ],
            "`requests[0].subject.accessTokenBody`",
        ),
        (
            [
                {
                    "subject": {"accessTokenBody": "e30"},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                }
            ],
            "`requests[0].subject.accessTokenBody`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"id": "a"}},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                    "environment": [],
                }
            ],
            "`requests[0].environment`",
        ),
        (
            [
                {
                    "subject": {"attributes": {"id": "a"}},
                    "action": "kms.a.b",
                    "resource": {"attributes": {}},
                    "environment": {
                        "attributes": {
                            "current_date_time": "2026-01-05T10:00:00+00:00",
                            "current_time": "2026-01-06T10:00:00+00:00",
                        }
                    },
                }
            ],
            "two different moments",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_item_and_field(
    http: httpx.Client, bearer: dict[str, str], body: Any, names: str
) -> None:
    content = body if isinstance(body, str) else json.dumps(body)
    headers = dict(bearer, **{"Content-Type": "application/json"})
    for path in ("/v2/authz", "/v2/authz/explain"):
        response = http.post(path, content=content, headers=headers)
        assert response.status_code == 400, response.text
        assert names in message(response), message(response)


def test_odd_bodies_never_make_a_500(http: httpx.Client, bearer: dict[str, str]) -> None:
    bodies = [
        b"",
        b"null",
        b"[" * 5000 + b"]" * 5000,
        b'[{"subject": {"accessTokenBody": "' + base64.urlsafe_b64encode(b"[" * 5000) + b'"}}]',
        b'[{"subject": {"accessTokenBody": "a.b.c"}, "action": "kms.a.b", "resource": {"crn": 1}}]',
        b'[{"subject": {"attributes": {"id": "\\u0000"}}, "action": "kms.a.b",'
        b' "resource": {"attributes": {"accountId": "\\u0000"}}}]',
        '["\udcff"]'.encode("utf-8", "surrogatepass"),
        b'[{"requestId": "\\ud800", "subject": {"attributes": {"id": "x"}}}]',
        b'[{"subject": {"accessTokenBody": "{\\"iam_id\\": \\"\\\\ud800\\"}"},'
        b' "action": "kms.a.b", "resource": {"attributes": {}}}]',
        # Well-formed items whose `requestId` would be echoed: the lone surrogate must be
        # refused before, whether it came in UTF-8 or in UTF-16 (which json.loads reads too).
        *(
            '[{"requestId": "\\ud800", "subject": {"attributes": {"id": "x"}},'
            ' "action": "kms.secrets.wrap", "resource": {"attributes": {}}}]'.encode(codec)
            for codec in ("utf-8", "utf-16", "utf-32")
        ),
    ]
    for path in ("/v2/authz", "/v2/authz/roles", "/v2/authz/explain"):
        for content in bodies:
            response = http.post(
                path, content=content, headers=dict(bearer, **{"Content-Type": "application/json"})
            )
            assert response.status_code in (400, 403), (path, content[:40], response.text)


def test_roles_need_the_service_and_ignore_an_action(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    subject = {"attributes": {"id": server.iam_id}}
    no_service = [
        {"subject": subject, "resource": {"attributes": {"accountId": server.account_id}}}
    ]
    refused = http.post("/v2/authz/roles", json=no_service, headers=bearer)
    assert refused.status_code == 400
    assert "`requests[0].resource.attributes.serviceName`" in message(refused)
    with_action = [
        {"subject": subject, "action": "whatever", "resource": on(server.account_id, "kms")}
    ]
    assert len(_role_actions(http.post("/v2/authz/roles", json=with_action, headers=bearer))) == 2
