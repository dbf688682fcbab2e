"""The pure rules behind registrations and rings (spec kms-api.md §3.8, §3.9): which resources a
calling service owns, the registration_input fields, the list query and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from strongroom.kms.calling_service import CallingService
from strongroom.kms.errors import KmsError
from strongroom.kms.models import Registration, Stamp
from strongroom.kms.paging import page
from strongroom.kms.registrations import Fields, RegistrationQuery, parse_fields

COS = CallingService(
    "cloud-object-storage",
    "inst-1",
    "crn:v1:bluemix:public:cloud-object-storage:global:a/acc:inst-1::",
)
BASE = "crn:v1:bluemix:public:cloud-object-storage:global:a/acc"


@pytest.mark.parametrize(
    ("crn", "owned"),
    [
        (f"{BASE}:inst-1:bucket:photos", True),
        (f"{BASE}:inst-1::/agentid=1234", True),  # a resource segment with `/` and `:`
        (f"{BASE}:inst-2:bucket:photos", False),  # another instance of the same service
        ("crn:v1:bluemix:public:kms:us-south:a/acc:inst-1:key:k", False),  # another service
        ("inst-1:bucket:photos", False),  # not a CRN
        ("crn:v1:bluemix:public:cloud-object-storage", False),  # too few segments
    ],
)
def test_a_service_owns_the_resources_of_its_own_instance(crn: str, owned: bool) -> None:
    assert COS.owns(crn) is owned


def test_registration_input_fields() -> None:
    assert parse_fields(None, what="w") == Fields()
    given = {"description": "d", "registrationMetadata": "m", "preventKeyDeletion": True}
    assert parse_fields(given, what="w") == Fields("d", "m", True)
    assert parse_fields({"description": "d"}, what="w") == Fields(description="d")
    bad: list[dict[str, Any]] = [
        {"preventKeyDeletion": "yes"},
        {"registrationMetadata": 7},
        {"registrationMetadata": "m" * 4097},
        {"description": "d" * 241},
    ]
    for resource in bad:
        with pytest.raises(KmsError) as refused:
            parse_fields(resource, what="w")
        assert refused.value.code == "INVALID_FIELD_ERR" and refused.value.target, resource


def _registration(crn: str, prevent: bool) -> Registration:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    stamp = Stamp(now, "iam-ServiceId-x")
    return Registration("k", "i", crn, "", prevent, "", "k", now, stamp, stamp)


def test_the_list_query_filters_by_crn_and_prevent_key_deletion() -> None:
    photos = _registration(f"{BASE}:inst-1:bucket:photos", True)
    logs = _registration(f"{BASE}:inst-1:bucket:logs", False)
    everything = RegistrationQuery.parse(page(200, 0, what="w"), None, None, all_keys=True)
    assert everything.matches(photos) and everything.matches(logs)
    prefix = RegistrationQuery.parse(
        page(200, 0, what="w"), f"{BASE}:inst-1:bucket:ph*", None, all_keys=True
    )
    assert prefix.matches(photos) and not prefix.matches(logs)
    kept = RegistrationQuery.parse(page(200, 0, what="w"), None, True, all_keys=False)
    assert kept.matches(photos) and not kept.matches(logs)
    lifted = RegistrationQuery.parse(page(200, 0, what="w"), None, False, all_keys=False)
    assert lifted.matches(logs) and not lifted.matches(photos)
    with pytest.raises(KmsError) as refused:
        RegistrationQuery.parse(
            page(200, 0, what="w"), f"{BASE}:*:bucket:photos", None, all_keys=True
        )
    assert refused.value.code == "INVALID_QUERY_PARAM_ERR"


def test_paging_bounds() -> None:
    assert page(2, 1, what="w").cut(["a", "b", "c", "d"]) == ["b", "c"]
    assert page(5000, 10, what="w").cut(["a"]) == []
    for limit, offset, target in ((0, 0, "limit"), (5001, 0, "limit"), (1, -1, "offset")):
        with pytest.raises(KmsError) as refused:
            page(limit, offset, what="w")
        assert refused.value.code == "INVALID_QUERY_PARAM_ERR"
        assert refused.value.target == target
