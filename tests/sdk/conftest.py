from __future__ import annotations

import pytest
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamIdentityV1

from strongroom.testing.server import LiveServer


def identity_client(server: LiveServer, apikey: str | None = None) -> IamIdentityV1:
    """The official SDK client, configured the way a user points it at strongroom."""
    client = IamIdentityV1(authenticator=IAMAuthenticator(apikey or server.apikey, url=server.url))
    client.set_service_url(server.url)
    return client


@pytest.fixture
def iam(server: LiveServer) -> IamIdentityV1:
    return identity_client(server)
