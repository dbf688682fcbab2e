"""`urlEncodedResourceCRNQuery` of registration lists (spec kms-api.md §3.8; kpdocs
integrations/view-protected-resources.md "CRN query examples")."""

from __future__ import annotations

import pytest

from strongroom.kms.crn_query import PARAM, parse_crn_query

from .key_factory import refusal

ACCOUNT = "a/274074dce64e9c423ffc238516c755e1"
REDIS = f"crn:v1:bluemix:public:databases-for-redis:us-south:{ACCOUNT}:29caf0e7:deployment:db-1"
COS = "crn:v1:bluemix:public:cloud-object-storage:global:a/e1bb63d6:inst-9:bucket:prod-logs"


@pytest.mark.parametrize(
    ("query", "crn", "hit"),
    [
        # kpdocs: every resource type and name of one Redis deployment
        (f"crn:v1:bluemix:public:databases-for-redis:us-south:{ACCOUNT}:29caf0e7:*:*", REDIS, True),
        (f"crn:v1:bluemix:public:databases-for-redis:us-south:{ACCOUNT}:other:*:*", REDIS, False),
        # kpdocs: COS buckets of any instance of an account, prefixed by `prod`
        ("crn:v1:bluemix:public:cloud-object-storage:global:a/e1bb63d6:*:bucket:prod*", COS, True),
        ("crn:v1:bluemix:public:cloud-object-storage:global:a/e1bb63d6:*:bucket:dev*", COS, False),
        ("crn:v1:bluemix:public:cloud-object-storage:global:a/e1bb63d6:*:object:prod*", COS, False),
        # the prefix of nothing matches every name; an exact name only itself
        ("crn:v1:bluemix:public:cloud-object-storage:global:a/e1bb63d6:*:bucket:*", COS, True),
        (COS, COS, True),
        (COS[:-1], COS, False),
        # the resource segment keeps its colons, in the query and in the CRN
        (
            "crn:v1:bluemix:public:svc:loc:a/x:inst:type:dir/a:b*",
            "crn:v1:bluemix:public:svc:loc:a/x:inst:type:dir/a:b:c",
            True,
        ),
        ("crn:v1:bluemix:public:svc:loc:a/x:inst:*:*", "crn:v1:bluemix:public:svc:loc:a/x", False),
    ],
)
def test_matching(query: str, crn: str, hit: bool) -> None:
    assert parse_crn_query(query, all_keys=False).matches(crn) is hit


@pytest.mark.parametrize(
    "query",
    [
        "crn:v1:bluemix:public:svc:loc:a/x:inst:type",  # nine segments
        "crn:v2:bluemix:public:svc:loc:a/x:inst:type:res",
        "*:v1:bluemix:public:svc:loc:a/x:inst:type:res",
        "crn:v1:bluemix:public:svc:loc:a/x:inst:ty*:res",  # prefix only on the last segment
        "crn:v1:bluemix:public:svc:loc:a/x:inst:type:*res",
        "crn:v1:bluemix:public:svc:loc:a/x:inst:type:a*b*",
        "",
    ],
)
def test_malformed_queries_fail(query: str) -> None:
    error = refusal(
        lambda: parse_crn_query(query, all_keys=False, what="Registrations could not be retrieved")
    )
    assert (error.code, error.target) == ("INVALID_QUERY_PARAM_ERR", PARAM)
    assert error.what == "Registrations could not be retrieved"


@pytest.mark.parametrize("segment", range(2, 8))
def test_the_instance_wide_list_needs_the_first_eight_segments(segment: int) -> None:
    parts = ["crn", "v1", "bluemix", "public", "svc", "loc", "a/x", "inst", "type", "res"]
    parts[segment] = "*"
    query = ":".join(parts)
    assert parse_crn_query(query, all_keys=False).matches(
        "crn:v1:bluemix:public:svc:loc:a/x:inst:type:res"
    )
    error = refusal(lambda: parse_crn_query(query, all_keys=True))
    assert error.code == "INVALID_QUERY_PARAM_ERR"
    assert "first eight" in error.message


def test_the_instance_wide_list_takes_wildcards_after_the_instance() -> None:
    query = parse_crn_query("crn:v1:bluemix:public:svc:loc:a/x:inst:*:pre*", all_keys=True)
    assert query.matches("crn:v1:bluemix:public:svc:loc:a/x:inst:bucket:prefix")
    assert not query.matches("crn:v1:bluemix:public:svc:loc:a/x:inst2:bucket:prefix")
