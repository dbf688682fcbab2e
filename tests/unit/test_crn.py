"""Cloud Resource Names: ten colon-separated segments; only the resource may hold colons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crn import CRN, CRNError, account_scope, iam_identity_crn

KEY = "crn:v1:bluemix:public:kms:us-south:a/0123456789abcdef0123456789abcdef:inst-1:key:k-42"


def test_parse_reads_every_segment() -> None:
    crn = CRN.parse(KEY)
    assert crn == CRN(
        cname="bluemix",
        ctype="public",
        service_name="kms",
        location="us-south",
        scope="a/0123456789abcdef0123456789abcdef",
        service_instance="inst-1",
        resource_type="key",
        resource="k-42",
    )
    assert crn.account_id == "0123456789abcdef0123456789abcdef"
    assert str(crn) == KEY


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        "crn:v1:bluemix:public:::::: ",
        "crn:v1:bluemix:public::::::",
        "crn:v1:staging:public:iam-identity::a/acct::serviceid:ServiceId-1",
        "crn:v1:bluemix:public:cloud-object-storage:global:a/acct:inst:object:bucket:dir/a:b:c",
        "crn:v1:bluemix:public:svc:::::arn:aws:iam::123:role/x",
        "crn:v1:bluemix:public:svc:::::trailing:",
    ],
)
def test_format_parse_round_trip(text: str) -> None:
    assert str(CRN.parse(text)) == text


def test_resource_keeps_its_colons() -> None:
    crn = CRN.parse("crn:v1:bluemix:public:svc:loc:a/x:inst:type:a:b::c")
    assert crn.resource_type == "type"
    assert crn.resource == "a:b::c"
    assert crn.service_instance == "inst"


def test_defaults_and_iam_identity_crn() -> None:
    assert str(CRN()) == "crn:v1:bluemix:public::::::"
    assert account_scope("abc") == "a/abc"
    assert (
        iam_identity_crn("abc", "serviceid", "ServiceId-1")
        == "crn:v1:bluemix:public:iam-identity::a/abc::serviceid:ServiceId-1"
    )
    assert (
        iam_identity_crn("abc", "apikey", "ApiKey-2")
        == "crn:v1:bluemix:public:iam-identity::a/abc::apikey:ApiKey-2"
    )


@pytest.mark.parametrize(
    ("scope", "account"),
    [("a/abc", "abc"), ("a/", ""), ("o/org", None), ("s/space", None), ("", None), ("abc", None)],
)
def test_account_id_only_for_account_scopes(scope: str, account: str | None) -> None:
    assert CRN(scope=scope).account_id == account


@pytest.mark.parametrize(
    "text",
    [
        "",
        "crn",
        "crn:v1",
        "crn:v1:bluemix:public:svc:loc:scope:inst:type",  # nine segments
        "crn:v2:bluemix:public:svc:loc:scope:inst:type:res",
        "CRN:v1:bluemix:public:svc:loc:scope:inst:type:res",
        "urn:v1:bluemix:public:svc:loc:scope:inst:type:res",
        "crn:V1:bluemix:public:svc:loc:scope:inst:type:res",
        "crn:v1::public:svc:loc:scope:inst:type:res",  # empty cname
        "crn:v1:bluemix::svc:loc:scope:inst:type:res",  # empty ctype
        " crn:v1:bluemix:public:svc:loc:scope:inst:type:res",
    ],
)
def test_malformed_crns_are_refused(text: str) -> None:
    with pytest.raises(CRNError, match=r"CRN|cname"):
        CRN.parse(text)


def test_crn_error_is_a_value_error() -> None:
    assert issubclass(CRNError, ValueError)


segment = st.text(alphabet=st.characters(exclude_characters=":", exclude_categories=["Cs"]))
nonempty = segment.filter(bool)


@given(
    cname=nonempty,
    ctype=nonempty,
    service_name=segment,
    location=segment,
    scope=segment,
    service_instance=segment,
    resource_type=segment,
    resource=st.text(),
)
def test_round_trip_property(
    cname: str,
    ctype: str,
    service_name: str,
    location: str,
    scope: str,
    service_instance: str,
    resource_type: str,
    resource: str,
) -> None:
    crn = CRN(
        cname, ctype, service_name, location, scope, service_instance, resource_type, resource
    )
    text = str(crn)
    assert text.count(":") == 9 + resource.count(":")
    assert CRN.parse(text) == crn
    assert str(CRN.parse(text)) == text
