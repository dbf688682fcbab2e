"""Key states and the timing rules between them (spec kms-api.md §2.2, §3.3, §3.4). Pure: the
time comes in as an argument, so tests move a clock instead of sleeping.

| action                     | allowed in state | timing                                      |
| -------------------------- | ---------------- | ------------------------------------------- |
| wrap                       | 1                |                                             |
| unwrap, rewrap, rotate     | 1, 3             | rotate: once an hour                        |
| disable                    | 1                |                                             |
| enable                     | 2                | 30 s after the disable                      |
| delete                     | 1, 2, 3          |                                             |
| restore                    | 5                | 30 s to 30 days after the delete            |
| purge                      | 5                | 4 hours to 90 days after; automatic at 90 d |
| sync                       | 1, 2, 3          | once an hour                                |
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from strongroom.kms.errors import KmsError
from strongroom.kms.models import Key, KeyState

ENABLE_AFTER = timedelta(seconds=30)  # after disable (spec §2.2)
RESTORE_AFTER = timedelta(seconds=30)  # after delete
RESTORE_WITHIN = timedelta(days=30)
PURGE_AFTER = timedelta(hours=4)
AUTO_PURGE_AFTER = timedelta(days=90)
ROTATE_EVERY = timedelta(hours=1)  # at most one rotation per hour
SYNC_EVERY = timedelta(hours=1)
DUAL_AUTH_VALID = timedelta(days=7)  # a setKeyForDeletion authorization

LIVE = frozenset({KeyState.ACTIVE, KeyState.SUSPENDED, KeyState.DEACTIVATED})
ALLOWED: dict[str, frozenset[KeyState]] = {
    "wrap": frozenset({KeyState.ACTIVE}),
    "unwrap": frozenset({KeyState.ACTIVE, KeyState.DEACTIVATED}),
    "rewrap": frozenset({KeyState.ACTIVE, KeyState.DEACTIVATED}),
    "rotate": frozenset({KeyState.ACTIVE, KeyState.DEACTIVATED}),
    "disable": frozenset({KeyState.ACTIVE}),
    "enable": frozenset({KeyState.SUSPENDED}),
    "delete": LIVE,
    "restore": frozenset({KeyState.DESTROYED}),
    "purge": frozenset({KeyState.DESTROYED}),
    "sync": LIVE,
    "setKeyForDeletion": LIVE,
    "unsetKeyForDeletion": LIVE,
    "patch": LIVE,
}
# "<what> could not be <done>" of the error message, per action (spec §1.5).
WHAT = {
    "wrap": "Key could not be wrapped",
    "unwrap": "Key could not be unwrapped",
    "rewrap": "Key could not be rewrapped",
    "rotate": "Key could not be rotated",
    "disable": "Key could not be disabled",
    "enable": "Key could not be enabled",
    "delete": "Key could not be deleted",
    "restore": "Key could not be restored",
    "purge": "Key could not be purged",
    "sync": "Key could not be synced",
    "setKeyForDeletion": "Key could not be set for deletion",
    "unsetKeyForDeletion": "Key could not be unset for deletion",
    "patch": "Key could not be updated",
}


def effective(key: Key, now: datetime) -> Key:
    """The key as it stands at `now`: an active or suspended key whose expiration date has
    passed is Deactivated (state 3; rotation does not reset the date, spec §2.2)."""
    if (
        key.state in (KeyState.ACTIVE, KeyState.SUSPENDED)
        and key.expiration_date is not None
        and key.expiration_date <= now
    ):
        return replace(key, state=KeyState.DEACTIVATED, nonactive_state_reason=3)
    return key


def purge_due(key: Key, now: datetime) -> bool:
    """Destroyed for 90 days: purged automatically (spec §3.3)."""
    return (
        key.state is KeyState.DESTROYED
        and key.deleted is not None
        and now >= key.deleted.at + AUTO_PURGE_AFTER
    )


def check(key: Key, action: str, now: datetime) -> None:
    """Raise the reason Key Protect gives unless `action` may be done to `key` at `now`."""
    what = WHAT[action]
    if action in ("wrap", "unwrap", "rewrap", "rotate") and not key.is_root:
        raise KmsError(
            "KEY_ROOT_REQ_ERR",
            f"`{action}` needs a root key; `{key.id}` is a standard key",
            what=what,
        )
    if key.state not in ALLOWED[action]:
        if key.state is KeyState.DESTROYED:
            raise KmsError("KEY_DELETED_ERR", f"key `{key.id}` has been deleted", what=what)
        raise KmsError(
            "KEY_ACTION_INVALID_STATE_ERR",
            f"`{action}` is not allowed on key `{key.id}` in state {int(key.state)}",
            what=what,
        )
    if action == "enable" and now < key.last_action_at + ENABLE_AFTER:
        raise _too_early(what, "a key can be enabled 30 seconds after it was disabled")
    if action in ("restore", "purge"):
        deleted_at = key.deleted.at if key.deleted else key.last_action_at
        if action == "restore":
            if now < deleted_at + RESTORE_AFTER:
                raise _too_early(what, "a key can be restored 30 seconds after it was deleted")
            if now > deleted_at + RESTORE_WITHIN:
                raise KmsError(
                    "KEY_RESTORE_EXPIRED",
                    f"key `{key.id}` was deleted more than 30 days ago and cannot be restored",
                    what=what,
                )
        elif now < deleted_at + PURGE_AFTER:
            raise _too_early(what, "Purge operation is allowed 4h0m0s after key is deleted")
    if action == "rotate" and key.last_rotate_at and now < key.last_rotate_at + ROTATE_EVERY:
        raise KmsError(
            "KEY_ROTATION_NOT_PERMITTED",
            f"key `{key.id}` was rotated less than an hour ago; it can be rotated once an hour",
            what=what,
        )
    if action == "sync" and key.last_sync_at and now < key.last_sync_at + SYNC_EVERY:
        raise _too_early(what, "a key's resources can be synced once an hour")


def deletion_windows(key: Key) -> dict[str, datetime]:
    """The restore and purge windows a deleted key's representation shows (spec §3.3)."""
    if key.deleted is None:
        return {}
    at = key.deleted.at
    return {
        "restoreExpirationDate": at + RESTORE_WITHIN,
        "purgeAllowedFrom": at + PURGE_AFTER,
        "purgeScheduledOn": at + AUTO_PURGE_AFTER,
    }


def _too_early(what: str, message: str) -> KmsError:
    return KmsError("REQ_TOO_EARLY_ERR", message, what=what)
