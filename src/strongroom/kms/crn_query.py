"""The `urlEncodedResourceCRNQuery` of registration lists (spec kms-api.md §3.8; kpdocs
integrations/view-protected-resources.md "CRN query examples"). Pure.

A query names all ten CRN segments. A segment that is exactly `*` matches any value; the last
segment may end in `*` for a prefix match (`bucket:prod*`); no other `*` is allowed. The
instance-wide list (`GET /keys/registrations`) refuses `*` in the first eight segments, so a
query there always names one service instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.kms.errors import KmsError

PARAM = "urlEncodedResourceCRNQuery"
SEGMENTS = 10
FIXED_FOR_ALL_KEYS = 8  # crn, v1, cname, ctype, service, location, scope, instance


def _invalid(message: str, what: str) -> KmsError:
    return KmsError("INVALID_QUERY_PARAM_ERR", message, what=what, target=PARAM)


@dataclass(frozen=True, slots=True)
class CrnQuery:
    segments: tuple[str, ...]  # ten; `*` = any; the last may end in `*` (prefix)

    def matches(self, crn: str) -> bool:
        # The resource segment may hold colons, so split at most nine times (as crn.CRN.parse).
        parts = crn.split(":", SEGMENTS - 1)
        if len(parts) != SEGMENTS:
            return False
        for index, (want, have) in enumerate(zip(self.segments, parts, strict=True)):
            if want == "*":
                continue
            if index == SEGMENTS - 1 and want.endswith("*"):
                if not have.startswith(want[:-1]):
                    return False
            elif want != have:
                return False
        return True


def parse_crn_query(text: str, *, all_keys: bool, what: str = "") -> CrnQuery:
    """`all_keys`: the query of `GET /keys/registrations` (no `*` before the resource type)."""
    parts = tuple(text.split(":", SEGMENTS - 1))
    if len(parts) != SEGMENTS or parts[0] != "crn" or parts[1] != "v1":
        raise _invalid(
            f"the CRN query `{text}` must name all ten segments, crn:v1:<cname>:<ctype>:"
            "<service>:<location>:<scope>:<instance>:<type>:<resource>",
            what,
        )
    for index, segment in enumerate(parts):
        last = index == SEGMENTS - 1
        stem = segment[:-1] if last and segment.endswith("*") else segment
        if segment != "*" and "*" in stem:
            raise _invalid(
                f"the CRN query `{text}` may use `*` only as a whole segment or at the end of "
                "the last segment",
                what,
            )
        if all_keys and index < FIXED_FOR_ALL_KEYS and "*" in segment:
            raise _invalid(
                f"the CRN query `{text}` may not use `*` in its first eight segments", what
            )
    return CrnQuery(parts)
