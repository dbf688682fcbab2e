"""Value rules of key fields (spec kms-api.md §2.1, §3.1, §3.4, §3.9)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.kms import names
from strongroom.kms.errors import KmsError

from .key_factory import T0, refusal

WHAT = "Key could not be created"


def assert_field_error(error: KmsError, target: str) -> None:
    assert (error.code, error.target, error.what) == ("INVALID_FIELD_ERR", target, WHAT)


@pytest.mark.parametrize("name", ["ab", "x" * 90, "my root key", "clé-racine", "a/b:c"])
def test_key_names_of_2_to_90_characters_pass(name: str) -> None:
    assert names.key_name(name, what=WHAT) == name


@pytest.mark.parametrize("name", ["", "a", "x" * 91, None, 42, ["ab"]])
def test_key_names_outside_2_to_90_characters_fail(name: object) -> None:
    assert_field_error(refusal(lambda: names.key_name(name, what=WHAT)), "name")


@given(st.text(min_size=2, max_size=90))
def test_any_name_of_2_to_90_characters_passes(name: str) -> None:
    assert names.key_name(name) == name


@given(st.text(max_size=1) | st.text(min_size=91, max_size=120))
def test_any_name_of_other_lengths_fails(name: str) -> None:
    assert refusal(lambda: names.key_name(name)).target == "name"


def test_description_up_to_240_characters() -> None:
    assert names.description(None) == ""
    assert names.description("") == ""
    assert names.description("d" * 240) == "d" * 240
    for bad in ("d" * 241, 7, ["x"]):
        assert_field_error(
            refusal(lambda bad=bad: names.description(bad, what=WHAT)), "description"
        )


def test_tags_limits() -> None:
    assert names.tags(None) == ()
    assert names.tags([]) == ()
    assert names.tags(["t"] * 30) == ("t",) * 30
    assert names.tags(["", "x" * 30, "with space", "a-b_c.d"]) == (
        "",
        "x" * 30,
        "with space",
        "a-b_c.d",
    )
    for bad in (["t"] * 31, ["x" * 31], "tag", [1], [None], {"t": 1}):
        assert_field_error(refusal(lambda bad=bad: names.tags(bad, what=WHAT)), "tags")


@pytest.mark.parametrize("char", sorted(names.TAG_FORBIDDEN))
def test_each_forbidden_tag_character_fails(char: str) -> None:
    error = refusal(lambda: names.tags(["ok", f"bad{char}tag"], what=WHAT))
    assert_field_error(error, "tags")
    assert f"bad{char}tag" in error.message


_TAG_CHARS = st.characters(
    blacklist_characters="".join(names.TAG_FORBIDDEN), blacklist_categories=("Cs",)
)


@given(st.text(_TAG_CHARS, max_size=30))
def test_any_tag_without_forbidden_characters_passes(tag: str) -> None:
    assert names.tag(tag) == tag


@given(
    st.text(_TAG_CHARS, max_size=14),
    st.sampled_from(sorted(names.TAG_FORBIDDEN)),
    st.text(_TAG_CHARS, max_size=14),
)
def test_any_tag_with_a_forbidden_character_fails(head: str, char: str, tail: str) -> None:
    assert refusal(lambda: names.tag(head + char + tail)).code == "INVALID_FIELD_ERR"


@pytest.mark.parametrize(
    "alias", ["ab", "app-root", "App_Root-2", "x" * 90, "Key1", "keysmith", "0123456789", "--"]
)
def test_aliases_of_letters_digits_dash_underscore_pass(alias: str) -> None:
    assert names.alias(alias, what=WHAT) == alias


@pytest.mark.parametrize(
    "alias",
    [
        "a",  # too short
        "x" * 91,  # too long
        "has space",
        "dot.ted",
        "slash/ed",
        "colon:",
        "café",  # letters beyond ASCII
        "١٢٣",  # digits beyond ASCII
        "trailing\n",
        "",
        None,
        12,
    ],
)
def test_aliases_with_other_characters_or_lengths_fail(alias: object) -> None:
    assert_field_error(refusal(lambda: names.alias(alias, what=WHAT)), "alias")


@pytest.mark.parametrize(
    "alias", ["12345678-1234-4123-8123-123456789abc", "ABCDEF01-ABCD-1ABC-ABCD-ABCDEF012345"]
)
def test_uuid_aliases_fail_as_they_would_shadow_a_key_id(alias: str) -> None:
    error = refusal(lambda: names.alias(alias, what=WHAT))
    assert_field_error(error, "alias")
    assert "UUID" in error.message


@pytest.mark.parametrize("word", sorted(names.RESERVED_ALIASES))
def test_reserved_words_fail_in_any_case(word: str) -> None:
    for alias in (word, word.upper(), word.capitalize()):
        error = refusal(lambda alias=alias: names.alias(alias, what=WHAT))
        assert_field_error(error, "alias")
        assert "reserved" in error.message


_ALIAS = st.from_regex(r"[A-Za-z0-9_-]{2,90}", fullmatch=True).filter(
    lambda text: not names.is_uuid(text) and text.lower() not in names.RESERVED_ALIASES
)


@given(_ALIAS)
def test_any_well_formed_alias_passes(alias: str) -> None:
    assert names.alias(alias) == alias


@given(
    _ALIAS, st.characters().filter(lambda c: c not in "_-" and not (c.isascii() and c.isalnum()))
)
def test_any_alias_with_another_character_fails(alias: str, char: str) -> None:
    assert refusal(lambda: names.alias(alias[:45] + char + alias[45:])).code == "INVALID_FIELD_ERR"


def test_aliases_list_holds_up_to_five_distinct_aliases() -> None:
    assert names.aliases(None) == ()
    assert names.aliases(["a1", "a2", "a3", "a4", "a5"]) == ("a1", "a2", "a3", "a4", "a5")
    assert names.aliases(["Ab", "ab"]) == ("Ab", "ab")  # case-sensitive: two aliases
    for bad in (["a1", "a2", "a3", "a4", "a5", "a6"], ["a1", "a1"], "a1", ["ok", "no way"]):
        assert_field_error(refusal(lambda bad=bad: names.aliases(bad, what=WHAT)), "aliases")


@pytest.mark.parametrize("ring", ["default", "test-keyring", "team-A", "ab", "r" * 100, "2024"])
def test_key_ring_ids_of_2_to_100_letters_digits_dashes_pass(ring: str) -> None:
    assert names.key_ring_id(ring) == ring


@pytest.mark.parametrize("ring", ["a", "r" * 101, "team_a", "team a", "tëam", "", None])
def test_other_key_ring_ids_fail(ring: object) -> None:
    error = refusal(lambda: names.key_ring_id(ring, field="X-Kms-Key-Ring", what=WHAT))
    assert (error.code, error.target) == ("INVALID_FIELD_ERR", "X-Kms-Key-Ring")


@given(st.from_regex(r"[A-Za-z0-9-]{2,100}", fullmatch=True))
def test_any_well_formed_ring_id_passes(ring: str) -> None:
    assert names.key_ring_id(ring) == ring


@given(
    st.from_regex(r"[A-Za-z0-9-]{2,50}", fullmatch=True),
    st.characters().filter(lambda c: c != "-" and not (c.isascii() and c.isalnum())),
)
def test_any_ring_id_with_another_character_fails(ring: str, char: str) -> None:
    assert refusal(lambda: names.key_ring_id(ring + char)).code == "INVALID_FIELD_ERR"


def test_the_default_ring_is_neither_created_nor_deleted() -> None:
    assert names.custom_key_ring_id("team-a") == "team-a"
    error = refusal(lambda: names.custom_key_ring_id("default"))
    assert (error.code, error.target) == ("INVALID_FIELD_ERR", "key_ring_id")
    assert "default" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-01T00:00:00Z", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01t00:00:00z", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01T02:30:00+02:30", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2029-12-31T23:00:00-01:00", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01T00:00:00.5Z", datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        # go's RFC3339Nano: nine digits, truncated to microseconds
        ("2022-07-05T00:00:00.000000123Z", datetime(2022, 7, 5, tzinfo=UTC)),
        ("2022-07-05T00:00:00.1234567Z", datetime(2022, 7, 5, 0, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_rfc3339_dates_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = names.parse_rfc3339(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2030-01-01",
        "2030-01-01T00:00Z",  # seconds are required
        "2030-01-01 00:00:00Z",  # RFC 3339 allows it, go's time.RFC3339 does not
        "2030-01-01T00:00:00",  # no offset
        "2030-01-01T00:00:00+0100",
        "2030-13-01T00:00:00Z",
        "2030-02-30T00:00:00Z",
        "2030-01-01T24:00:00Z",
        "2030-01-01T00:00:60Z",
        "2030-01-01T00:00:00+24:00",
        "2030-01-01T00:00:00+01:60",
        "2030-01-01T00:00:00.Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "\uff12\uff10\uff13\uff10-01-01T00:00:00Z",  # full-width digits
        "20300101T000000Z",
        " 2030-01-01T00:00:00Z",
        "2030-01-01T00:00:00Z\n",
    ],
)
def test_non_rfc3339_dates_do_not_parse(text: str) -> None:
    assert names.parse_rfc3339(text) is None


def test_fraction_digits() -> None:
    assert names.fraction_digits("2030-01-01T00:00:00Z") == 0
    assert names.fraction_digits("2030-01-01T00:00:00.120Z") == 3
    assert names.fraction_digits("not a date") == 0


def test_expiration_date_is_rfc3339_and_in_the_future() -> None:
    assert names.expiration_date("2030-01-01T00:00:00Z", T0) == datetime(2030, 1, 1, tzinfo=UTC)
    for bad in ("2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2030-01-01", 1893456000, None):
        error = refusal(lambda bad=bad: names.expiration_date(bad, T0, what=WHAT))
        assert_field_error(error, "expirationDate")


def test_expiration_in_another_offset_compares_as_an_instant() -> None:
    now = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=5)))  # 07:00 UTC
    assert names.expiration_date("2024-01-01T08:00:00Z", now) == datetime(2024, 1, 1, 8, tzinfo=UTC)
    assert (
        refusal(lambda: names.expiration_date("2024-01-01T11:00:00+05:00", now)).target
        == "expirationDate"
    )


def test_wrap_aad_is_a_list_of_strings_up_to_255_characters() -> None:
    assert names.wrap_aad(None) == ()
    assert names.wrap_aad([]) == ()
    assert names.wrap_aad(["a", "", "x" * 255]) == ("a", "", "x" * 255)
    for bad in (["x" * 256], "aad", [1], ["a", None], [["a"]], {"a": "b"}):
        assert_field_error(refusal(lambda bad=bad: names.wrap_aad(bad, what=WHAT)), "aad")


@given(st.binary(max_size=64))
def test_base64_round_trips(data: bytes) -> None:
    assert names.decode_base64(base64.b64encode(data).decode(), "plaintext") == data


@pytest.mark.parametrize(
    "text",
    [
        "q+x3Qi/BVb8bPj;",  # kpdocs' example of a bad plaintext
        "YWJj ZA==",
        "YWJjZA",  # padding missing
        "YWJjZA===",
        "-_-_",  # URL-safe alphabet
        "YWJj\n",
        "é",
        None,
        b"YWJj",
        12,
    ],
)
def test_base64_is_strict(text: object) -> None:
    error = refusal(lambda: names.decode_base64(text, "plaintext", what=WHAT))
    assert_field_error(error, "plaintext")


@pytest.mark.parametrize(
    ("size", "root"), [(16, True), (24, True), (32, True), (1, False), (32, False), (7500, False)]
)
def test_imported_material_sizes_that_pass(size: int, root: bool) -> None:
    assert names.imported_material(b"k" * size, root=root) == b"k" * size


@pytest.mark.parametrize(
    ("size", "root"), [(0, True), (15, True), (31, True), (64, True), (0, False), (7501, False)]
)
def test_imported_material_sizes_that_fail(size: int, root: bool) -> None:
    error = refusal(lambda: names.imported_material(b"k" * size, root=root, what=WHAT))
    assert_field_error(error, "payload")
    assert str(size) in error.message
