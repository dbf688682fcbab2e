"""The official `ResourceManagerV2` (with `IAMAuthenticator`) against a live server on loopback,
on SQLite and PostgreSQL: what IBM's own integration test checks (spec §13: the account's
default group with every field, quota definitions, create/get/update/delete), plus lists with
filters, soft delete, and 404s for unknown ids and other accounts' groups alike."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import ResourceManagerV2
from ibm_platform_services.resource_manager_v2 import (
    QuotaDefinition,
    QuotaDefinitionList,
    ResCreateResourceGroup,
    ResourceGroup,
    ResourceGroupList,
)

from strongroom.testing.server import LiveServer

# The quota id IBM's integration test reads without configuration (quota_definitions.yaml).
IBM_TEST_QUOTA = "7ce89f4a-4381-4600-b814-3cd9a4f4bdf4"
IBM_LIST_FIELDS = (
    "id", "name", "crn", "account_id", "state", "quota_id", "quota_url", "created_at", "updated_at"
)  # fmt: skip


def manager(server: LiveServer, apikey: str | None = None) -> ResourceManagerV2:
    authenticator = IAMAuthenticator(apikey or server.apikey, url=server.url)
    client = ResourceManagerV2(authenticator=authenticator)
    client.set_service_url(server.url)
    return client


@pytest.fixture
def rm(server: LiveServer) -> ResourceManagerV2:
    return manager(server)


def unique(prefix: str = "sdk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(rm: ResourceManagerV2, server: LiveServer, name: str) -> str:
    response = rm.create_resource_group(name=name, account_id=server.account_id)
    assert response.get_status_code() == 201
    created = response.get_result()
    assert set(created) == {"id", "crn"}  # spec §1 fact 5
    return str(ResCreateResourceGroup.from_dict(created).id)


def test_the_account_has_a_default_group_with_every_field_ibms_test_reads(
    rm: ResourceManagerV2, server: LiveServer
) -> None:
    response = rm.list_resource_groups(account_id=server.account_id, default=True)
    assert response.get_status_code() == 200
    (first,) = response.get_result()["resources"]
    for key in IBM_LIST_FIELDS:
        assert first.get(key) is not None, key
    group = ResourceGroup.from_dict(first)
    assert (group.name, group.state, group.default) == ("Default", "ACTIVE", True)
    assert re.fullmatch(r"[0-9a-f]{32}", group.id)
    assert group.crn == (
        f"crn:v1:bluemix:public:resource-controller::a/{server.account_id}"
        f"::resource-group:{group.id}"
    )
    assert group.quota_url == f"/v2/quota_definitions/{group.quota_id}"
    quota = QuotaDefinition.from_dict(rm.get_quota_definition(id=group.quota_id).get_result())
    assert quota.name == "Pay-as-you-go Quota"


def test_quota_definitions(rm: ResourceManagerV2) -> None:
    listed = rm.list_quota_definitions()
    assert listed.get_status_code() == 200
    quotas = QuotaDefinitionList.from_dict(listed.get_result()).resources
    assert {"Trial Quota", "Pay-as-you-go Quota"} <= {q.name for q in quotas}
    got = rm.get_quota_definition(id=IBM_TEST_QUOTA)
    assert got.get_status_code() == 200
    trial = QuotaDefinition.from_dict(got.get_result())
    assert (trial.id, trial.name, trial.type) == (IBM_TEST_QUOTA, "Trial Quota", "trial")
    assert trial.number_of_service_instances == 10 and trial.instance_memory == "1G"
    assert trial.resource_quotas and trial.resource_quotas[0].resource_id == "kms"
    unknown = secrets.token_hex(16)
    with pytest.raises(ApiException) as missing:
        rm.get_quota_definition(id=unknown)
    assert missing.value.code == 404 and unknown in missing.value.message


def test_group_lifecycle_as_ibms_test_runs_it(rm: ResourceManagerV2, server: LiveServer) -> None:
    name = unique("TestGroup")
    group_id = create(rm, server, name)
    got = rm.get_resource_group(id=group_id)
    assert got.get_status_code() == 200
    group = ResourceGroup.from_dict(got.get_result())
    assert (group.name, group.state, group.default, group.account_id) == (
        name, "ACTIVE", False, server.account_id
    )  # fmt: skip
    renamed = rm.update_resource_group(id=group_id, name=name + "2", state="ACTIVE")
    assert renamed.get_status_code() == 200
    assert ResourceGroup.from_dict(renamed.get_result()).name == name + "2"
    suspended = rm.update_resource_group(id=group_id, state="SUSPENDED")
    assert ResourceGroup.from_dict(suspended.get_result()).state == "SUSPENDED"
    by_name = rm.list_resource_groups(account_id=server.account_id, name=name + "2")
    assert [g["id"] for g in by_name.get_result()["resources"]] == [group_id]

    assert rm.delete_resource_group(id=group_id).get_status_code() == 204
    # Soft delete: still readable, listed only with include_deleted, its name free again.
    assert rm.get_resource_group(id=group_id).get_result()["state"] == "DELETED"
    live = ResourceGroupList.from_dict(rm.list_resource_groups().get_result())
    assert group_id not in {g.id for g in live.resources}
    everything = rm.list_resource_groups(include_deleted=True).get_result()["resources"]
    assert group_id in {g["id"] for g in everything}
    with pytest.raises(ApiException) as again:
        rm.delete_resource_group(id=group_id)
    assert again.value.code == 404 and group_id in again.value.message
    create(rm, server, name + "2")


def test_the_default_group_cannot_be_deleted(rm: ResourceManagerV2, server: LiveServer) -> None:
    (default,) = rm.list_resource_groups(default=True).get_result()["resources"]
    with pytest.raises(ApiException) as refused:
        rm.delete_resource_group(id=default["id"])
    assert refused.value.code == 400 and default["id"] in refused.value.message
    assert rm.get_resource_group(id=default["id"]).get_result()["state"] == "ACTIVE"


def test_unknown_ids_and_other_accounts_groups_answer_alike(
    rm: ResourceManagerV2, server: LiveServer
) -> None:
    other = server.container.identity.create_account("rm other", "rm@example.com", None)
    theirs = manager(server, other.owner_key.value)
    (their_default,) = theirs.list_resource_groups(default=True).get_result()["resources"]
    assert their_default["account_id"] == other.account.id
    ghost = secrets.token_hex(16)
    for call in (
        lambda gid: rm.get_resource_group(id=gid),
        lambda gid: rm.update_resource_group(id=gid, name="mine now"),
        lambda gid: rm.delete_resource_group(id=gid),
    ):
        with pytest.raises(ApiException) as foreign:
            call(their_default["id"])
        with pytest.raises(ApiException) as missing:
            call(ghost)
        assert foreign.value.code == missing.value.code == 404
        assert foreign.value.message.replace(their_default["id"], ghost) == missing.value.message
    # A list naming another account is refused, as every list naming another account is.
    with pytest.raises(ApiException) as elsewhere:
        rm.list_resource_groups(account_id=other.account.id)
    assert elsewhere.value.code == 403 and their_default["id"] not in elsewhere.value.message
    assert theirs.get_resource_group(id=their_default["id"]).get_result()["name"] == "Default"
