"""User Management and identity account settings over HTTP: bad input is refused with a 4xx
naming the field and writes nothing; tenants never see each other's users or settings."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"


def new_account(server: LiveServer, http: httpx.Client) -> tuple[str, str, dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"t {tag}", f"o.{tag}@example.com", None)
    bearer = {"Authorization": f"Bearer {token_for(http, made.owner_key.value)}"}
    return made.account.id, made.owner.iam_id, bearer


def users_of(http: httpx.Client, account: str, bearer: dict[str, str]) -> list[str]:
    listed = http.get(f"/v2/accounts/{account}/users", headers=bearer)
    assert listed.status_code == 200
    return sorted(u["email"] for u in listed.json()["resources"])


def policy_count(server: LiveServer, account: str) -> int:
    with server.runtime.uow() as uow:
        return uow.policies.count(account)


def refusal(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"users": [{"email": "not-an-address", "account_role": "Member"}]}, 400, "email"),
        ({"users": [{"email": "a@example.com", "account_role": "Emperor"}]}, 400, "Emperor"),
        ({"users": [{"email": "a@example.com", "account_role": "Owner"}]}, 400, "account_role"),
        ({"users": []}, 400, "users"),
        ({"users": [{"email": "a@example.com"}], "colour": "red"}, 400, "colour"),
        (
            {"users": [{"email": "a@example.com"}, {"email": "A@example.com"}]},
            400,
            "twice",
        ),
        ({"users": [{"email": "a@example.com"}], "access_groups": [7]}, 400, "access_groups"),
        (
            {
                "users": [{"email": "a@example.com"}, {"email": "b@example.com"}],
                "iam_policy": [
                    {
                        "type": "access",
                        "roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Emperor"}],
                        "resources": [{"attributes": [{"name": "serviceName", "value": "kms"}]}],
                    }
                ],
            },
            400,
            "Emperor",
        ),
    ],
)
def test_bad_invitations_are_refused_and_write_nothing(
    server: LiveServer, http: httpx.Client, body: dict[str, Any], status: int, named: str
) -> None:
    account, _, bearer = new_account(server, http)
    before = (users_of(http, account, bearer), policy_count(server, account))
    response = http.post(f"/v2/accounts/{account}/users", json=body, headers=bearer)
    assert response.status_code == status, response.text
    assert named in refusal(response)
    assert (users_of(http, account, bearer), policy_count(server, account)) == before


def test_inviting_a_member_twice_is_a_conflict(server: LiveServer, http: httpx.Client) -> None:
    account, _, bearer = new_account(server, http)
    body = {"users": [{"email": "twice@example.com", "account_role": "Member"}]}
    assert http.post(f"/v2/accounts/{account}/users", json=body, headers=bearer).status_code == 202
    again = http.post(f"/v2/accounts/{account}/users", json=body, headers=bearer)
    assert again.status_code == 409 and "twice@example.com" in refusal(again)


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("", {"state": "PENDING"}, "state"),
        ("", {"email": "nope"}, "email"),
        ("", {"shoe_size": "11"}, "shoe_size"),
        ("/settings", {"self_manage": "yes"}, "self_manage"),
        ("/settings", {"allowed_ip_addresses": "10.0.0.999"}, "10.0.0.999"),
    ],
)
def test_bad_profile_and_settings_changes(
    server: LiveServer, http: httpx.Client, path: str, body: dict[str, Any], named: str
) -> None:
    account, owner, bearer = new_account(server, http)
    url = f"/v2/accounts/{account}/users/{owner}{path}"
    before = http.get(url, headers=bearer).json()
    response = http.patch(url, json=body, headers=bearer)
    assert response.status_code == 400 and named in refusal(response)
    assert http.get(url, headers=bearer).json() == before


def test_the_owner_cannot_be_removed_or_disabled(server: LiveServer, http: httpx.Client) -> None:
    account, owner, bearer = new_account(server, http)
    url = f"/v2/accounts/{account}/users/{owner}"
    assert http.delete(url, headers=bearer).status_code == 409
    assert http.patch(url, json={"state": "VPN_ONLY"}, headers=bearer).status_code == 409
    assert http.get(url, headers=bearer).json()["state"] == "ACTIVE"


def test_paging_and_search_refuse_what_they_do_not_know(
    server: LiveServer, http: httpx.Client
) -> None:
    account, _, bearer = new_account(server, http)
    url = f"/v2/accounts/{account}/users"
    for params, named in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"_start": "garbage!"}, "_start"),
        ({"search": "shoe:11"}, "shoe"),
        ({"search": "email"}, "email"),
    ):
        response = http.get(url, params=params, headers=bearer)
        assert response.status_code == 400 and named in refusal(response), params


SETTINGS = "/v1/accounts/{}/settings/identity"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"session_expiration_in_seconds": "899"}, "session_expiration_in_seconds"),
        ({"session_expiration_in_seconds": "86401"}, "session_expiration_in_seconds"),
        ({"system_access_token_expiration_in_seconds": "3601"}, "access_token"),
        ({"system_access_token_expiration_in_seconds": 900}, "access_token"),
        ({"system_refresh_token_expiration_in_seconds": "259201"}, "refresh_token"),
        ({"system_refresh_token_expiration_in_seconds": "1e4"}, "refresh_token"),
        ({"restrict_create_service_id": "MAYBE"}, "restrict_create_service_id"),
        ({"mfa": "NOT_SET"}, "mfa"),
        ({"user_mfa": [{"iam_id": "IBMid-1", "mfa": "SMS"}]}, "SMS"),
        ({"allowed_ip_addresses": "everyone"}, "everyone"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_account_settings_name_the_field_and_change_nothing(
    server: LiveServer, http: httpx.Client, body: dict[str, Any], named: str
) -> None:
    account, _, bearer = new_account(server, http)
    url = SETTINGS.format(account)
    before = http.get(url, headers=bearer).json()
    response = http.put(url, json=body, headers={**bearer, "If-Match": "*"})
    assert response.status_code == 400 and named in refusal(response), response.text
    assert http.get(url, headers=bearer).json() == before


def test_account_settings_need_a_current_if_match(server: LiveServer, http: httpx.Client) -> None:
    account, _, bearer = new_account(server, http)
    url = SETTINGS.format(account)
    body = {"session_expiration_in_seconds": "900"}
    assert http.put(url, json=body, headers=bearer).status_code == 428
    first = http.get(url, headers=bearer).headers["ETag"]
    done = http.put(url, json=body, headers={**bearer, "If-Match": first})
    assert done.status_code == 200 and done.json()["session_expiration_in_seconds"] == "900"
    stale = http.put(url, json={"mfa": "TOTP"}, headers={**bearer, "If-Match": first})
    assert stale.status_code == 412
    # NOT_SET is a value of its own: it clears the setting and is echoed as sent.
    tag = done.headers["ETag"]
    cleared = http.put(
        url, json={"session_expiration_in_seconds": "NOT_SET"}, headers={**bearer, "If-Match": tag}
    )
    assert cleared.json()["session_expiration_in_seconds"] == "NOT_SET"
    assert cleared.json()["mfa"] == "NONE"


def test_tenants_never_see_each_others_users_or_settings(
    server: LiveServer, http: httpx.Client
) -> None:
    mine, _, bearer = new_account(server, http)
    theirs, their_owner, _ = new_account(server, http)
    for method, path in (
        ("GET", f"/v2/accounts/{theirs}/users"),
        ("GET", f"/v2/accounts/{theirs}/users/{their_owner}"),
        ("GET", f"/v2/accounts/{theirs}/users/{their_owner}/settings"),
        ("DELETE", f"/v2/accounts/{theirs}/users/{their_owner}"),
        ("GET", SETTINGS.format(theirs)),
        ("GET", f"/v1/accounts/{theirs}/effective_settings/identity"),
    ):
        response = http.request(method, path, headers=bearer)
        assert response.status_code == 404, (method, path, response.status_code)
    invite = http.post(
        f"/v2/accounts/{theirs}/users",
        json={"users": [{"email": "spy@example.com"}]},
        headers=bearer,
    )
    assert invite.status_code == 404
    put = http.put(
        SETTINGS.format(theirs), json={"mfa": "NONE"}, headers={**bearer, "If-Match": "*"}
    )
    assert put.status_code == 404
    # Their owner is no user of mine either.
    assert http.get(f"/v2/accounts/{mine}/users/{their_owner}", headers=bearer).status_code == 404


def test_a_pending_member_may_only_accept(server: LiveServer, http: httpx.Client) -> None:
    account, _, bearer = new_account(server, http)
    invited = http.post(
        f"/v2/accounts/{account}/users",
        json={"users": [{"email": f"p.{uuid.uuid4().hex[:6]}@example.com"}]},
        headers=bearer,
    ).json()["resources"][0]["id"]
    key = http.post(
        "/v1/apikeys",
        json={"name": "first", "iam_id": invited, "account_id": account},
        headers=bearer,
    ).json()["apikey"]
    theirs = {"Authorization": f"Bearer {token_for(http, key)}"}
    own = http.get(f"/v2/accounts/{account}/users/{invited}", headers=theirs)
    assert own.status_code == 403 and "accepted" in refusal(own)
    missing = http.post("/v2/users/accept", json={}, headers=theirs)
    assert missing.status_code == 400 and "account_id" in refusal(missing)
    assert (
        http.post("/v2/users/accept", json={"account_id": account}, headers=theirs).status_code
        == 202
    )
    # Active now, but with no policy: the engine decides as for anyone else.
    assert http.get(f"/v2/accounts/{account}/users", headers=theirs).status_code == 403
