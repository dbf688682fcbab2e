"""Identifier formats (spec §1 fact 12, §3.5)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from strongroom import ids

MANY = 300


def uuid4_suffix(value: str, prefix: str) -> uuid.UUID:
    assert value.startswith(prefix)
    parsed = uuid.UUID(value.removeprefix(prefix))
    assert str(parsed) == value.removeprefix(prefix)  # canonical lowercase form
    assert parsed.version == 4
    return parsed


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (ids.new_account_id, r"^[0-9a-f]{32}$"),
        (ids.new_user_iam_id, r"^IBMid-[0-9A-Z]{10}$"),
        (
            ids.new_service_id,
            r"^ServiceId-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        ),
        (
            ids.new_api_key_id,
            r"^ApiKey-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        ),
        (ids.new_uuid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
    ],
    ids=["account", "user", "service-id", "api-key", "uuid"],
)
def test_new_ids_have_the_ibm_format_and_are_unique(make: Callable[[], str], pattern: str) -> None:
    values = [make() for _ in range(MANY)]
    assert all(re.fullmatch(pattern, v) for v in values), values[:3]
    assert len(set(values)) == MANY


def test_new_ids_match_the_published_patterns() -> None:
    assert ids.ACCOUNT_ID_RE.match(ids.new_account_id())
    assert ids.USER_IAM_ID_RE.match(ids.new_user_iam_id())
    assert ids.SERVICE_ID_RE.match(ids.new_service_id())
    assert ids.API_KEY_ID_RE.match(ids.new_api_key_id())
    uuid4_suffix(ids.new_service_id(), "ServiceId-")
    uuid4_suffix(ids.new_api_key_id(), "ApiKey-")


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        (ids.ACCOUNT_ID_RE, "0123456789ABCDEF0123456789abcdef"),
        (ids.ACCOUNT_ID_RE, "0123456789abcdef0123456789abcde"),
        (ids.SERVICE_ID_RE, "ServiceId-1234"),
        (ids.SERVICE_ID_RE, "serviceid-" + str(uuid.uuid4())),
        (ids.API_KEY_ID_RE, "ApiKey-" + str(uuid.uuid4()) + "0"),
        (ids.USER_IAM_ID_RE, "IBMid-abc"),
        (ids.USER_IAM_ID_RE, "iam-ServiceId-" + str(uuid.uuid4())),
    ],
)
def test_patterns_refuse_lookalikes(pattern: re.Pattern[str], value: str) -> None:
    assert pattern.match(value) is None


def test_service_id_iam_id() -> None:
    sid = ids.new_service_id()
    assert ids.service_id_iam_id(sid) == "iam-" + sid
    assert ids.service_id_iam_id("ServiceId-x") == "iam-ServiceId-x"


@pytest.mark.parametrize("version", [1, 2, 9, 10, 12345])
def test_entity_tags_carry_their_version(version: int) -> None:
    tags = {ids.new_entity_tag(version) for _ in range(50)}
    assert len(tags) == 50
    for tag in tags:
        assert re.fullmatch(rf"{version}-[0-9a-f]{{32}}", tag)
        assert ids.entity_tag_version(tag) == version


@pytest.mark.parametrize(
    ("tag", "version"),
    [("7-abc", 7), ("12", 12), ("", 0), ("-abc", 0), ("x-1", 0), ("1a-2", 0), ("W/1-abc", 0)],
)
def test_entity_tag_version_of_odd_tags(tag: str, version: int) -> None:
    assert ids.entity_tag_version(tag) == version
