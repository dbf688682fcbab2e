"""Seed 000, "Managing access to multiple instances", end to end through the official SDKs
against a live server (SQLite and PostgreSQL).

The seed's example: two Hyper Protect Crypto Services instances, for development and for
production, each in its own account of an enterprise and its own resource group; enterprise
managers hold Administrator for accounts and billing; the developer team holds Editor and
Manager on the development instance; other members hold Viewer and Reader. Access between the
tiers stays isolated: nothing granted in one account reaches another.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jwt
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import (
    IamAccessGroupsV2,
    IamPolicyManagementV1,
    ResourceControllerV2,
    ResourceManagerV2,
    UserManagementV1,
)

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.sdk.conftest import identity_client
from tests.sdk.test_enterprise_sdk import WITH_SERVICE_ID, enterprise_client, new_enterprise

HPCS_STANDARD = "0b5ed8fe-0b7e-4e2a-9d6f-3c1b2a4e5f60"
ROLE = "crn:v1:bluemix:public:iam::::role:{}"
SERVICE_ROLE = "crn:v1:bluemix:public:iam::::serviceRole:{}"


def client(cls: Any, server: LiveServer, apikey: str) -> Any:
    made = cls(authenticator=IAMAuthenticator(apikey, url=server.url))
    made.set_service_url(server.url)
    return made


def policy(subject: dict[str, str], roles: list[str], **resource: str) -> dict[str, Any]:
    """A v2 access policy: `subject` {key: value}, the role CRNs, resource attributes."""
    ((key, value),) = subject.items()
    return {
        "type": "access",
        "subject": {"attributes": [{"key": key, "operator": "stringEquals", "value": value}]},
        "resource": {
            "attributes": [
                {"key": k, "operator": "stringEquals", "value": v} for k, v in resource.items()
            ]
        },
        "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
    }


def v2(server: LiveServer, apikey: str, body: dict[str, Any]) -> None:
    pm = client(IamPolicyManagementV1, server, apikey)
    assert pm.create_v2_policy(**body).get_status_code() == 201


class Tier:
    """One child account of the enterprise with its resource group and HPCS instance."""

    def __init__(self, server: LiveServer, em: Any, parent: str, owner: str, name: str) -> None:
        made = em.create_account(
            parent=parent, name=name, owner_iam_id=owner, options=WITH_SERVICE_ID
        ).get_result()
        self.account = made["account_id"]
        # The owner's own key in the new account, made with its administrator service ID.
        self.owner_key = (
            identity_client(server, made["iam_apikey"])
            .create_api_key(name="owner", iam_id=owner, account_id=self.account)
            .get_result()["apikey"]
        )
        rm = client(ResourceManagerV2, server, self.owner_key)
        self.group = rm.create_resource_group(name=f"{name}-rg").get_result()["id"]
        rc = client(ResourceControllerV2, server, self.owner_key)
        self.instance = rc.create_resource_instance(
            name=f"hpcs-{name}", target="us-south", resource_group=self.group,
            resource_plan_id=HPCS_STANDARD,
        ).get_result()  # fmt: skip

    def invite(self, server: LiveServer, email: str, groups: list[str]) -> str:
        """Invite a person into this account's access groups; their first key; accepted."""
        um = client(UserManagementV1, server, self.owner_key)
        iam_id = um.invite_users(
            account_id=self.account,
            users=[{"email": email, "account_role": "Member"}],
            access_groups=groups,
        ).get_result()["resources"][0]["id"]
        key = (
            identity_client(server, self.owner_key)
            .create_api_key(name="first", iam_id=iam_id, account_id=self.account)
            .get_result()["apikey"]
        )
        assert client(UserManagementV1, server, key).accept(account_id=self.account)
        return str(key)

    def group_with(self, server: LiveServer, name: str, roles: list[str]) -> str:
        """An access group holding `roles` on this tier's HPCS instance."""
        ag = client(IamAccessGroupsV2, server, self.owner_key)
        made = ag.create_access_group(account_id=self.account, name=name).get_result()["id"]
        v2(
            server,
            self.owner_key,
            policy(
                {"access_group_id": made},
                roles,
                accountId=self.account,
                serviceName="hs-crypto",
                serviceInstance=self.instance["guid"],
            ),
        )
        return str(made)


def allowed(
    http: httpx.Client, asker: str, subject: str, account: str, action: str, **resource: str
) -> bool:
    """What `/v2/authz` answers the account's owner (`asker`'s key) about `subject`, whose key
    is given: the decision point looks up the subject's groups itself."""
    me = jwt.decode(token_for(http, subject), options={"verify_signature": False})["iam_id"]
    item = {
        "subject": {"attributes": {"id": me}},
        "action": action,
        "resource": {"attributes": {"accountId": account, **resource}},
    }
    headers = {"Authorization": f"Bearer {token_for(http, asker)}"}
    answer = http.post("/v2/authz", json=[item], headers=headers)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["responses"][0]["authorizationDecision"]["permitted"])


def test_development_and_production_stay_apart(server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    ent = new_enterprise(server)
    em = enterprise_client(server, ent["key"])
    crypto = em.create_account_group(
        parent=ent["crn"], name="Crypto", primary_contact_iam_id=ent["owner"]
    ).get_result()["account_group_id"]
    parent = f"crn:v1:bluemix:public:enterprise::a/{ent['account']}::account-group:{crypto}"
    dev = Tier(server, em, parent, ent["owner"], "development")
    prod = Tier(server, em, parent, ent["owner"], "production")
    assert dev.account != prod.account and dev.group != prod.group

    # Developers: Editor (platform) and Manager (service) on the development instance.
    developers = dev.group_with(
        server, "developers", [ROLE.format("Editor"), SERVICE_ROLE.format("Manager")]
    )
    # Everyone else: Viewer and Reader, on both instances.
    dev_readers = dev.group_with(
        server, "readers", [ROLE.format("Viewer"), SERVICE_ROLE.format("Reader")]
    )
    prod_readers = prod.group_with(
        server, "readers", [ROLE.format("Viewer"), SERVICE_ROLE.format("Reader")]
    )

    alice = dev.invite(server, f"alice.{tag}@example.com", [developers])
    bob_dev = dev.invite(server, f"bob.{tag}@example.com", [dev_readers])
    bob_prod = prod.invite(server, f"bob.{tag}@example.com", [prod_readers])

    on_dev = {"serviceName": "hs-crypto", "serviceInstance": dev.instance["guid"]}
    on_prod = {"serviceName": "hs-crypto", "serviceInstance": prod.instance["guid"]}
    with httpx.Client(base_url=server.url, timeout=30) as http:

        def in_dev(key: str, action: str) -> bool:
            return allowed(http, dev.owner_key, key, dev.account, action, **on_dev)

        def in_prod(key: str, action: str) -> bool:
            return allowed(http, prod.owner_key, key, prod.account, action, **on_prod)

        # The developer manages keys and edits the development instance (seed 000 tables 2, 4).
        assert allowed(
            http, dev.owner_key, alice, dev.account, "hs-crypto.secrets.create", **on_dev
        )
        assert allowed(
            http, dev.owner_key, alice, dev.account, "hs-crypto.secrets.delete", **on_dev
        )
        rc_alice = client(ResourceControllerV2, server, alice)
        renamed = rc_alice.update_resource_instance(id=dev.instance["guid"], name="hpcs-dev-2")
        assert renamed.get_result()["name"] == "hpcs-dev-2"
        # A reader lists keys but creates none, and views the instance without editing it.
        assert allowed(
            http, dev.owner_key, bob_dev, dev.account, "hs-crypto.secrets.list", **on_dev
        )
        assert not allowed(
            http, dev.owner_key, bob_dev, dev.account, "hs-crypto.secrets.create", **on_dev
        )
        assert allowed(
            http, prod.owner_key, bob_prod, prod.account, "hs-crypto.secrets.list", **on_prod
        )
        rc_bob = client(ResourceControllerV2, server, bob_dev)
        assert rc_bob.get_resource_instance(id=dev.instance["guid"]).get_status_code() == 200
        with pytest.raises(ApiException) as no_edit:
            rc_bob.update_resource_instance(id=dev.instance["guid"], name="mine")
        assert no_edit.value.code == 403

        # Isolation: the developer's token is for development only; production knows nothing
        # of them, and its instance answers as a missing one would.
        with pytest.raises(ApiException) as elsewhere:
            rc_alice.get_resource_instance(id=prod.instance["guid"])
        assert elsewhere.value.code == 404
        alice_token = token_for(http, alice)
        asked = http.post(
            "/v2/authz",
            json=[{"subject": {"attributes": {"id": "IBMid-x"}}, "action": "hs-crypto.secrets.list",
                   "resource": {"attributes": {"accountId": prod.account, **on_prod}}}],
            headers={"Authorization": f"Bearer {alice_token}"},
        )  # fmt: skip
        assert asked.status_code == 403

        # Enterprise managers: Administrator for accounts and billing, in the enterprise account.
        carol_sid = (
            identity_client(server, ent["key"])
            .create_service_id(
                account_id=ent["account"], name="enterprise-manager", apikey={"name": "k"}
            )
            .get_result()
        )
        carol = carol_sid["apikey"]["apikey"]
        for service in ("enterprise", "billing"):
            v2(
                server,
                ent["key"],
                policy(
                    {"iam_id": carol_sid["iam_id"]},
                    [ROLE.format("Administrator")],
                    accountId=ent["account"],
                    serviceName=service,
                ),
            )
        assert allowed(
            http, ent["key"], carol, ent["account"], "billing.info.read", serviceName="billing"
        )
        em_carol = enterprise_client(server, carol)
        made = em_carol.create_account_group(
            parent=ent["crn"], name="Data", primary_contact_iam_id=ent["owner"]
        )
        assert made.get_status_code() == 201
        # ... and nothing inside the child accounts, where no policy names them.
        with pytest.raises(ApiException) as no_keys:
            client(ResourceControllerV2, server, carol).get_resource_instance(
                id=dev.instance["guid"]
            )
        assert no_keys.value.code == 404
