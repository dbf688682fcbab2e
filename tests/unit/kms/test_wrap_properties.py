"""Properties of wrap/unwrap as the service chains them (spec kms-api.md §3.4, §3.5):
wrap → encode → decode → unwrap gives the plaintext back, and nothing else opens: a flipped
bit anywhere, another `aad` list, key or version does not, even when the other key or version
holds the same (imported) material. `decode` raises nothing but CiphertextError."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.kms.crypto.backend import CiphertextError, CryptoBackend, Wrapped
from strongroom.kms.crypto.ciphertext import decode, encode, wrap_aad
from strongroom.kms.crypto.context import version_context
from strongroom.kms.crypto.software import SoftwareBackend
from strongroom.rootkey import RootKey

PROPERTY = settings(deadline=None, derandomize=True, database=None, max_examples=200)
INSTANCE = "instance-a"
KEY = "0f8a1d2c-1111-4a3e-8f34-0f4a2f1f3b01"
OTHER_KEY = "0f8a1d2c-2222-4a3e-8f34-0f4a2f1f3b01"
V1 = "7d3bbd3d-aaaa-4a3e-8f34-0f4a2f1f3b01"
V2 = "7d3bbd3d-bbbb-4a3e-8f34-0f4a2f1f3b01"
MATERIAL = bytes(range(100, 132))


@dataclass(frozen=True)
class Instance:
    """One instance's keys as the service would hold them: sealed material by (key, version)."""

    backend: CryptoBackend
    master: bytes
    versions: dict[tuple[str, str], bytes]

    def wrap(self, key_id: str, version_id: str, plaintext: bytes, aad: Sequence[str]) -> str:
        wrapped = self.backend.wrap(
            self.master,
            version_context(INSTANCE, key_id, version_id),
            self.versions[(key_id, version_id)],
            plaintext,
            wrap_aad(key_id, version_id, aad),
        )
        return encode(version_id, wrapped)

    def unwrap(self, key_id: str, text: str, aad: Sequence[str]) -> bytes:
        version_id, wrapped = decode(text)
        sealed = self.versions.get((key_id, version_id))
        if sealed is None:  # the service answers that the ciphertext is not of this key
            raise CiphertextError(f"no version `{version_id}`")
        return self.backend.unwrap(
            self.master,
            version_context(INSTANCE, key_id, version_id),
            sealed,
            wrapped,
            wrap_aad(key_id, version_id, aad),
        )


@pytest.fixture(scope="module")
def instance() -> Instance:
    backend = SoftwareBackend(RootKey(bytes(32)))
    master = backend.new_master_key(INSTANCE)
    # The same imported material under two versions of one key and under another key: only
    # the AAD's key and version ids tell them apart.
    versions = {
        ids: backend.seal(master, version_context(INSTANCE, *ids), MATERIAL)
        for ids in [(KEY, V1), (KEY, V2), (OTHER_KEY, V1)]
    }
    return Instance(backend, master, versions)


plaintexts = st.binary(max_size=300)
aad_lists = st.lists(st.text(max_size=255), max_size=4)


def flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@PROPERTY
@given(plaintext=plaintexts, aad=aad_lists)
def test_wrap_then_unwrap_gives_the_plaintext(
    instance: Instance, plaintext: bytes, aad: list[str]
) -> None:
    text = instance.wrap(KEY, V1, plaintext, aad)
    assert instance.unwrap(KEY, text, aad) == plaintext
    assert instance.unwrap(KEY, text, list(aad)) == plaintext  # resent, not the same object


@PROPERTY
@given(plaintext=plaintexts, aad=aad_lists, data=st.data())
def test_a_flipped_bit_of_the_wrapped_value_or_iv_never_opens(
    instance: Instance, plaintext: bytes, aad: list[str], data: st.DataObject
) -> None:
    version_id, wrapped = decode(instance.wrap(KEY, V1, plaintext, aad))
    bit = data.draw(st.integers(0, len(wrapped.ciphertext) * 8 - 1), label="ciphertext bit")
    forged = Wrapped(iv=wrapped.iv, ciphertext=flip(wrapped.ciphertext, bit))
    with pytest.raises(CiphertextError):
        instance.unwrap(KEY, encode(version_id, forged), aad)
    bit = data.draw(st.integers(0, 12 * 8 - 1), label="iv bit")
    forged = Wrapped(iv=flip(wrapped.iv, bit), ciphertext=wrapped.ciphertext)
    with pytest.raises(CiphertextError):
        instance.unwrap(KEY, encode(version_id, forged), aad)


@PROPERTY
@given(plaintext=plaintexts, aad=aad_lists)
def test_another_version_or_key_with_the_same_material_never_opens(
    instance: Instance, plaintext: bytes, aad: list[str]
) -> None:
    version_id, wrapped = decode(instance.wrap(KEY, V1, plaintext, aad))
    with pytest.raises(CiphertextError):
        instance.unwrap(KEY, encode(V2, wrapped), aad)  # handle rewritten to the other version
    with pytest.raises(CiphertextError):
        instance.unwrap(OTHER_KEY, encode(version_id, wrapped), aad)


@PROPERTY
@given(plaintext=plaintexts, bit=st.integers(0, len(V1) * 7 - 1))
def test_a_flipped_bit_of_the_handle_never_opens(
    instance: Instance, plaintext: bytes, bit: int
) -> None:
    _, wrapped = decode(instance.wrap(KEY, V1, plaintext, []))
    # Flip one of the 7 low bits of a character: the handle stays an ASCII string.
    handle = flip(V1.encode(), bit // 7 * 8 + bit % 7).decode()
    with pytest.raises(CiphertextError):
        instance.unwrap(KEY, encode(handle, wrapped), [])


@PROPERTY
@given(plaintext=plaintexts, aad=aad_lists, other=aad_lists)
def test_another_aad_list_never_opens(
    instance: Instance, plaintext: bytes, aad: list[str], other: list[str]
) -> None:
    text = instance.wrap(KEY, V1, plaintext, aad)
    if other == aad:
        assert instance.unwrap(KEY, text, other) == plaintext
    else:
        with pytest.raises(CiphertextError):
            instance.unwrap(KEY, text, other)


@pytest.mark.parametrize("length", [0, 1, 16, 32, 35])
def test_every_single_bit_flip_of_the_ciphertext_string_fails(
    instance: Instance, length: int
) -> None:
    """Exhaustive over the string's bits: base64 is checked canonical, so no flip gives back a
    string that decodes to the same values."""
    plaintext = bytes(range(length))
    text = instance.wrap(KEY, V1, plaintext, ["tenant=a"])
    assert instance.unwrap(KEY, text, ["tenant=a"]) == plaintext
    raw = text.encode("ascii")
    for bit in range(len(raw) * 8):
        forged = flip(raw, bit).decode("latin-1")
        with pytest.raises(CiphertextError):
            instance.unwrap(KEY, forged, ["tenant=a"])


# -- decode is total --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
fields = st.sampled_from(["ciphertext", "iv", "version", "handle", "Handle", "extra"])
field_values = (
    json_values
    | st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
    | st.sampled_from(["4.0.0", "4.0.1", "", V1])
)
bodies = st.dictionaries(fields, field_values, max_size=6)


def as_text(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@PROPERTY
@given(
    text=st.text(max_size=200)
    | st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())
    | json_values.map(as_text)
    | bodies.map(as_text)
)
def test_decode_raises_only_ciphertext_errors(text: str) -> None:
    try:
        version_id, wrapped = decode(text)
    except CiphertextError:
        return
    # What decodes is a well-formed value: it re-encodes, and reads back the same.
    assert decode(encode(version_id, wrapped)) == (version_id, wrapped)
