"""What an instance allows of a new alias (spec kms-api.md §3.9), for `POST /keys` with
`aliases` and `POST /keys/{id}/aliases/{alias}` alike: at most 5 per key and 1000 per instance,
unique in the instance, and never equal to a key id (an alias stands wherever a key id does, so
it must not shadow one). The form of each alias is `names.alias`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.kms.errors import KmsError
from strongroom.kms.models import Alias, Stamp
from strongroom.kms.names import ALIASES_PER_KEY
from strongroom.store.ports import UnitOfWork

ALIASES_PER_INSTANCE = 1000


def attach(
    uow: UnitOfWork,
    instance_id: str,
    key_id: str,
    aliases: Sequence[str],
    stamp: Stamp,
    *,
    what: str,
    target: str | None = None,
) -> list[Alias]:
    """Add `aliases` (already in `names.alias` form) to a key, or raise and add none.
    `target`: the body field that named them, if any."""
    if not aliases:
        return []
    held = len(uow.key_aliases.of_key(instance_id, key_id))
    if held + len(aliases) > ALIASES_PER_KEY:
        raise KmsError(
            "KEY_ALIAS_QUOTA_ERR",
            f"key `{key_id}` has {held} aliases; a key can have at most {ALIASES_PER_KEY}",
            what=what,
        )
    if uow.key_aliases.count(instance_id) + len(aliases) > ALIASES_PER_INSTANCE:
        raise KmsError(
            "KEY_ALIAS_QUOTA_ERR",
            f"instance `{instance_id}` has reached its limit of {ALIASES_PER_INSTANCE} aliases",
            what=what,
        )
    made = []
    for name in aliases:
        alias = Alias(instance_id, name, key_id, stamp)
        # The unit of work rolls every alias back if a later one clashes.
        if uow.kms_keys.get(instance_id, name) is not None or not uow.key_aliases.add(alias):
            raise KmsError(
                "KEY_ALIAS_NOT_UNIQUE_ERR",
                f"alias `{name}` is already used in instance `{instance_id}`",
                what=what,
                target=target,
            )
        made.append(alias)
    return made
