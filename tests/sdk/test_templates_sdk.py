"""Enterprise templates are not kept: the official SDK lists them empty (spec §4.6, §6.6), so
clients that clean up templates (IBM's own integration tests) run unchanged; another account's
lists stay closed."""

from __future__ import annotations

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamIdentityV1, IamPolicyManagementV1

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client


def policy_client(server: LiveServer) -> IamPolicyManagementV1:
    client = IamPolicyManagementV1(authenticator=IAMAuthenticator(server.apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def test_template_lists_are_empty(server: LiveServer, iam: IamIdentityV1) -> None:
    account = server.account_id
    profiles = iam.list_profile_templates(account_id=account).get_result()
    settings = iam.list_account_settings_templates(account_id=account).get_result()
    policies = policy_client(server).list_policy_templates(account_id=account).get_result()
    assert profiles["profile_templates"] == []
    assert settings["account_settings_templates"] == []
    assert policies["policy_templates"] == []


def test_another_accounts_template_lists_are_refused(server: LiveServer) -> None:
    other = server.container.identity.create_account("templates", "t@example.com", None)
    theirs = identity_client(server, other.owner_key.value)
    with pytest.raises(ApiException) as refused:
        theirs.list_profile_templates(account_id=server.account_id)
    assert refused.value.code == 403
