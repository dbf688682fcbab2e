"""Value rules of key fields (spec kms-api.md §2.1, §3.1, §3.4, §3.9). Pure.

Each check takes the decoded JSON value and returns it typed, or raises `INVALID_FIELD_ERR` with
the field as target. `what` is the `<what> could not be <done>` of the operation that called it
(spec §1.5), e.g. "Key could not be created".
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta, timezone

from strongroom.kms.errors import KmsError

NAME_MIN, NAME_MAX = 2, 90
DESCRIPTION_MAX = 240
TAGS_MAX, TAG_MAX = 30, 30
TAG_FORBIDDEN = frozenset("<>,:&|")
ALIAS_MIN, ALIAS_MAX = 2, 90
ALIASES_PER_KEY = 5
# Words that are path segments of the key API, so an alias could not stand for a key id there
# (spec §3.9). Refused in any case: `Keys` would be as confusing as `keys` in a URL.
RESERVED_ALIASES = frozenset(
    [
        "allowed_ip",
        "key",
        "keys",
        "metadata",
        "policy",
        "policies",
        "registration",
        "registrations",
        "ring",
        "rings",
        "rotate",
        "wrap",
        "unwrap",
        "rewrap",
        "version",
        "versions",
    ]
)
# Key ring ids: Key Protect publishes no rule (spec §7). We take 2-100 characters of
# [A-Za-z0-9-], which every official example fits (`test-keyring`, `team-a`) and which is safe
# in a URL path, an IAM attribute value and a header without escaping.
RING_MIN, RING_MAX = 2, 100
DEFAULT_RING = "default"
AAD_ITEM_MAX = 255
ROOT_MATERIAL_SIZES = (16, 24, 32)  # AES-128/192/256 (spec §3.1)
STANDARD_MATERIAL_MAX = 7500

_ALIAS_RE = re.compile(r"[A-Za-z0-9_-]+")
_RING_RE = re.compile(r"[A-Za-z0-9-]+")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# RFC 3339 §5.6 exactly: `T` or `t`, seconds required, fraction any length, `Z` or ±hh:mm.
_RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _invalid(field: str, message: str, what: str) -> KmsError:
    return KmsError("INVALID_FIELD_ERR", message, what=what, target=field)


def is_uuid(text: str) -> bool:
    return _UUID_RE.fullmatch(text) is not None


def parse_rfc3339(text: str) -> datetime | None:
    """A strict RFC 3339 date-time as an aware UTC datetime, or None. go decodes dates into
    `time.Time`, which takes exactly this form (spec §2.1); fractions beyond microseconds are
    truncated."""
    match = _RFC3339_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        if zulu:
            tz = UTC
        else:
            if int(off_h) > 23 or int(off_m) > 59:
                return None
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            tz = timezone(-offset if sign == "-" else offset)
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # month 13, second 60, year 0, past 9999 in UTC
        return None


def fraction_digits(text: str) -> int:
    """How many fractional-second digits an RFC 3339 text gives (0 when it gives none)."""
    match = _RFC3339_RE.fullmatch(text)
    return len(match.group(7) or "") if match else 0


def key_name(value: object, *, what: str = "") -> str:
    if not isinstance(value, str):
        raise _invalid("name", "the field `name` must be a string of 2 to 90 characters", what)
    if not NAME_MIN <= len(value) <= NAME_MAX:
        raise _invalid("name", f"the key name `{value}` must have 2 to 90 characters", what)
    return value


def description(value: object, *, what: str = "") -> str:
    """kpdocs asks for 2 or more characters but clients send "" for "none": only the maximum
    is enforced."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > DESCRIPTION_MAX:
        raise _invalid(
            "description",
            "the field `description` must be a string of at most 240 characters",
            what,
        )
    return value


def tag(value: object, *, what: str = "") -> str:
    if not isinstance(value, str):
        raise _invalid("tags", "every tag must be a string", what)
    if len(value) > TAG_MAX:
        raise _invalid("tags", f"the tag `{value}` is longer than 30 characters", what)
    if TAG_FORBIDDEN.intersection(value):
        raise _invalid("tags", f"the tag `{value}` may not contain any of < > , : & |", what)
    return value


def tags(value: object, *, what: str = "") -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _invalid("tags", "the field `tags` must be a list of strings", what)
    if len(value) > TAGS_MAX:
        raise _invalid("tags", f"a key can have at most 30 tags, not {len(value)}", what)
    return tuple(tag(item, what=what) for item in value)


def alias(value: object, *, field: str = "alias", what: str = "") -> str:
    """An alias (spec §3.9): 2-90 of [A-Za-z0-9_-], case-sensitive, not a UUID (it would shadow
    a key id) and not a reserved path word."""
    if not isinstance(value, str):
        raise _invalid(field, "an alias must be a string", what)
    if not ALIAS_MIN <= len(value) <= ALIAS_MAX or _ALIAS_RE.fullmatch(value) is None:
        raise _invalid(
            field,
            f"the alias `{value}` must have 2 to 90 characters among letters, digits, - and _",
            what,
        )
    if is_uuid(value):
        raise _invalid(field, f"the alias `{value}` may not be a UUID", what)
    if value.lower() in RESERVED_ALIASES:
        raise _invalid(field, f"the alias `{value}` is a reserved word", what)
    return value


def aliases(value: object, *, what: str = "") -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _invalid("aliases", "the field `aliases` must be a list of strings", what)
    if len(value) > ALIASES_PER_KEY:
        raise _invalid("aliases", f"a key can have at most 5 aliases, not {len(value)}", what)
    out = tuple(alias(item, field="aliases", what=what) for item in value)
    for index, item in enumerate(out):
        if item in out[:index]:
            raise _invalid("aliases", f"the alias `{item}` is given twice", what)
    return out


def key_ring_id(value: object, *, field: str = "keyRingID", what: str = "") -> str:
    """Any ring id, `default` included (X-Kms-Key-Ring, PATCH's `keyRingID`)."""
    if (
        not isinstance(value, str)
        or not RING_MIN <= len(value) <= RING_MAX
        or _RING_RE.fullmatch(value) is None
    ):
        raise _invalid(
            field,
            f"the key ring id `{value}` must have 2 to 100 characters among letters, digits and -",
            what,
        )
    return value


def custom_key_ring_id(value: object, *, field: str = "key_ring_id", what: str = "") -> str:
    """A ring id to create or delete: `default` always exists and cannot be either (spec §3.9)."""
    ring = key_ring_id(value, field=field, what=what)
    if ring == DEFAULT_RING:
        raise _invalid(
            field, "the key ring `default` always exists: it is neither created nor deleted", what
        )
    return ring


def expiration_date(value: object, now: datetime, *, what: str = "") -> datetime:
    """A key's `expirationDate`: strict RFC 3339, later than `now`."""
    moment = parse_rfc3339(value) if isinstance(value, str) else None
    if moment is None:
        raise _invalid(
            "expirationDate",
            f"the field `expirationDate` must be an RFC 3339 date such as 2030-01-01T00:00:00Z, "
            f"not `{value}`",
            what,
        )
    if moment <= now:
        raise _invalid(
            "expirationDate", f"the expiration date `{value}` is not in the future", what
        )
    return moment


def wrap_aad(value: object, *, what: str = "") -> tuple[str, ...]:
    """Additional authenticated data of wrap/unwrap/rewrap (spec §3.4): strings of up to 255
    characters, bound to the ciphertext in order."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid("aad", "the field `aad` must be a list of strings", what)
    for item in value:
        if len(item) > AAD_ITEM_MAX:
            raise _invalid("aad", "every `aad` item must have at most 255 characters", what)
    return tuple(value)


def decode_base64(value: object, field: str, *, what: str = "") -> bytes:
    """Standard base64 with padding, nothing else: a stray character is refused, not skipped."""
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            pass
    raise _invalid(field, f"the field `{field}` must be base64 encoded", what)


def imported_material(material: bytes, *, root: bool, what: str = "") -> bytes:
    """Imported key material (spec §3.1): a root key is an AES key of 16, 24 or 32 bytes; a
    standard key any secret of 1 to 7,500 bytes."""
    if root and len(material) not in ROOT_MATERIAL_SIZES:
        raise _invalid(
            "payload",
            f"a root key's material must be 16, 24 or 32 bytes, not {len(material)}",
            what,
        )
    if not root and not 1 <= len(material) <= STANDARD_MATERIAL_MAX:
        raise _invalid(
            "payload",
            f"a standard key's material must be 1 to 7500 bytes, not {len(material)}",
            what,
        )
    return material
