"""`limit` and `offset` of the key management lists (spec kms-api.md §3 rows 11, 29, 30, 35):
`limit` 1 to 5000 (go's tests expect a 400 for `limit=0`), `offset` 0 or more. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from strongroom.kms.errors import KmsError

LIMIT_MAX = 5000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int = 0

    def cut(self, items: Sequence[T]) -> list[T]:
        return list(items[self.offset : self.offset + self.limit])


def page(limit: int, offset: int, *, what: str) -> Page:
    if not 1 <= limit <= LIMIT_MAX:
        raise KmsError(
            "INVALID_QUERY_PARAM_ERR",
            f"`limit` must be 1 to {LIMIT_MAX}, not {limit}",
            what=what,
            target="limit",
        )
    if offset < 0:
        raise KmsError(
            "INVALID_QUERY_PARAM_ERR",
            f"`offset` must be 0 or more, not {offset}",
            what=what,
            target="offset",
        )
    return Page(limit, offset)
