"""Which key rings a list may show (spec kms-api.md §4.1, last paragraph): a grant on the instance
reaches every ring, a grant on one key ring reaches that ring alone. Keys, key rings and
registrations are all listed this way: everything when the route's action is
permitted on the instance, else the rings it is permitted on, else the instance's refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from strongroom.authz import Guard
from strongroom.kms.errors import KmsError
from strongroom.kms.scope import Scope, require


def permits(guard: Guard, scope: Scope, ring: str | None) -> bool:
    """The guard's action on the instance (`ring` None) or on one ring, as a yes or no."""
    try:
        require(guard, scope, scope.resource(ring))
    except KmsError:
        return False
    return True


def listable_rings(
    guard: Guard, scope: Scope, rings: Iterable[str], only: str | None = None
) -> set[str]:
    """The rings among `rings` whose contents the caller may list. `only` (the `X-Kms-Key-Ring`
    header) narrows the list to one ring and must itself be permitted."""
    wanted = set(rings)
    if only is not None:
        require(guard, scope, scope.resource(only))  # raises when not permitted
        return wanted & {only}
    if permits(guard, scope, None):
        return wanted
    allowed = {ring for ring in wanted if permits(guard, scope, ring)}
    if not allowed:
        require(guard, scope, scope.resource())  # raises the instance-level refusal
    return allowed
