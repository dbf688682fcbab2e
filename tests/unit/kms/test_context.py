"""Crypto contexts: an unambiguous encoding of what a sealed blob belongs to, instance first."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.kms.crypto.context import (
    canonical,
    import_token_context,
    instance_of,
    version_context,
)

PROPERTY = settings(deadline=None, derandomize=True, database=None, max_examples=300)
ids = st.text(max_size=40)


@PROPERTY
@given(first=st.lists(ids, max_size=5), second=st.lists(ids, max_size=5))
def test_different_lists_of_strings_never_encode_alike(first: list[str], second: list[str]) -> None:
    assert (canonical(*first) == canonical(*second)) == (first == second)


@PROPERTY
@given(instance_id=ids.filter(bool), key_id=ids, version_id=ids)
def test_the_instance_id_reads_back_from_every_context(
    instance_id: str, key_id: str, version_id: str
) -> None:
    assert instance_of(version_context(instance_id, key_id, version_id)) == instance_id
    assert instance_of(import_token_context(instance_id)) == instance_id
    assert version_context(instance_id, key_id, version_id) != import_token_context(instance_id)


@pytest.mark.parametrize(
    "context",
    [
        b"",
        b"\x00\x00",
        b"instance-a/key-1/version-1",
        canonical("another label", "instance-a"),
        canonical("kms key version"),  # no instance
        canonical("kms key version", ""),
        canonical("kms key version", "instance-a")[:-1],  # truncated
    ],
    ids=["empty", "short", "free-text", "label", "no-instance", "empty-instance", "truncated"],
)
def test_contexts_not_built_here_are_refused(context: bytes) -> None:
    with pytest.raises(ValueError, match="crypto context"):
        instance_of(context)
