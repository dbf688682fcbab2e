"""Shared setup of the Key Protect SDK tests: a live server whose key lifecycle runs on a clock
the test moves, accounts with a `kms` instance, and the official `IbmKeyProtectApiV2` client
configured the way a user points it at strongroom."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import (
    IamIdentityV1,
    IamPolicyManagementV1,
    ResourceControllerV2,
    ResourceManagerV2,
)
from ibm_platform_services.iam_policy_management_v1 import (
    PolicyResource,
    PolicyRole,
    PolicySubject,
    ResourceAttribute,
    SubjectAttribute,
)
from keyprotect.ibm_key_protect_api_v2 import IbmKeyProtectApiV2

from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer
from tests.conftest import SERVER_BACKENDS, start_server

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
HPCS_PLAN = "0b5ed8fe-0b7e-4e2a-9d6f-3c1b2a4e5f60"  # hs-crypto `standard` (resources/plans.yaml)
KEY_TYPE = "application/vnd.ibm.kms.key+json"


@dataclass
class Kms:
    server: LiveServer
    clock: FrozenClock  # the key lifecycle's clock: tests move it instead of sleeping


@dataclass
class Tenant:
    account_id: str
    apikey: str
    owner: str  # the owner's iam_id
    instance: str  # the kms instance GUID (`Bluemix-Instance`)
    client: IbmKeyProtectApiV2


@pytest.fixture(scope="module", params=SERVER_BACKENDS)
def kms(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kms]:
    clock = FrozenClock(datetime.now(UTC))
    with ExitStack() as stack:
        server = start_server(
            request.param,
            str(tmp_path_factory.mktemp(f"kms-{request.param}")),
            stack,
            kms_clock=clock,
        )
        yield Kms(server, clock)


def kp_client(server: LiveServer, apikey: str) -> IbmKeyProtectApiV2:
    client = IbmKeyProtectApiV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def new_tenant(server: LiveServer, service_plan: str = KMS_PLAN) -> Tenant:
    """A fresh account with one `kms` instance, made through the official platform SDKs."""
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"kp {tag}", f"kp.{tag}@example.com", None)
    apikey = made.owner_key.value
    rm = ResourceManagerV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    rm.set_service_url(server.url)
    group = rm.create_resource_group(name=f"rg-{tag}").get_result()["id"]
    rc = ResourceControllerV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    rc.set_service_url(server.url)
    guid = rc.create_resource_instance(
        name=f"kp-{tag}", target="us-south", resource_group=group, resource_plan_id=service_plan
    ).get_result()["guid"]
    return Tenant(made.account.id, apikey, made.owner.iam_id, guid, kp_client(server, apikey))


def envelope(resource: dict[str, Any], collection_type: str = KEY_TYPE) -> io.BytesIO:
    body = {
        "metadata": {"collectionType": collection_type, "collectionTotal": 1},
        "resources": [resource],
    }
    return io.BytesIO(json.dumps(body).encode())


def body(data: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(json.dumps(data).encode())


def result_json(response: Any) -> Any:
    """The decoded body: the SDK decodes only `application/json`, and leaves a vendor type
    (`application/vnd.ibm.kms.key+json`, spec kms-api.md §1.4) as the raw response."""
    found = response.get_result()
    return found.json() if hasattr(found, "json") else found


def create_key(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    response = tenant.client.create_key(
        bluemix_instance=tenant.instance,
        key_create_body=envelope({"type": KEY_TYPE, "name": name, **fields}),
        prefer="return=representation",
    )
    assert response.get_status_code() == 201
    key: dict[str, Any] = result_json(response)["resources"][0]
    return key


def reason(exc: ApiException) -> str:
    """The first reason code of a KMS error body (spec kms-api.md §1.5)."""
    data = exc.http_response.json()
    code: str = data["resources"][0]["reasons"][0]["code"]
    return code


@dataclass
class Caller:
    iam_id: str
    apikey: str


def new_service_id(server: LiveServer, tenant: Tenant, name: str) -> Caller:
    """A service ID with an API key in the tenant's account, made with the official
    IamIdentityV1 as the tenant's owner."""
    iam = IamIdentityV1(authenticator=IAMAuthenticator(tenant.apikey, url=server.url))
    iam.set_service_url(server.url)
    sid = iam.create_service_id(account_id=tenant.account_id, name=name).get_result()
    key = iam.create_api_key(name=f"{name}-key", iam_id=sid["iam_id"]).get_result()
    return Caller(sid["iam_id"], key["apikey"])


def grant(
    server: LiveServer,
    tenant: Tenant,
    iam_id: str,
    role: str,
    *,
    service: str = "kms",
    **attrs: str,
) -> None:
    """A v1 access policy giving `iam_id` `role` on the tenant's kms instance (narrowed by
    `attrs`, e.g. keyRing or resource), made with the official IamPolicyManagementV1."""
    pm = IamPolicyManagementV1(authenticator=IAMAuthenticator(tenant.apikey, url=server.url))
    pm.set_service_url(server.url)
    attributes = {
        "accountId": tenant.account_id,
        "serviceName": service,
        "serviceInstance": tenant.instance,
        **attrs,
    }
    pm.create_policy(
        type="access",
        subjects=[PolicySubject(attributes=[SubjectAttribute(name="iam_id", value=iam_id)])],
        roles=[PolicyRole(role_id=role)],
        resources=[
            PolicyResource(
                attributes=[
                    ResourceAttribute(name=k, value=v, operator="stringEquals")
                    for k, v in attributes.items()
                ]
            )
        ],
    )


def role_crn(name: str) -> str:
    if name in ("Reader", "Writer", "Manager"):
        return f"crn:v1:bluemix:public:iam::::serviceRole:{name}"
    return f"crn:v1:bluemix:public:kms::::serviceRole:{name}"
