"""How `strongroom kp` shows keys, wrap answers and instance policies as text: the columns
and fields `ibmcloud kp` shows, with the state number and key type spelled out."""

from __future__ import annotations

import json
from typing import Any

from strongroom.cli.iam import show_fields

STATES = {0: "Pre-activation", 1: "Active", 2: "Suspended", 3: "Deactivated", 5: "Destroyed"}

KEY_FIELDS = [
    ("Key ID", "id"),
    ("Key Name", "name"),
    ("Description", "description"),
    ("Key Type", "key_type"),
    ("State", "state_name"),
    ("Key Ring", "keyRingID"),
    ("Aliases", "alias_list"),
    ("Imported", "imported"),
    ("Key Version", "version_id"),
    ("Creation Date", "creationDate"),
    ("Created By", "createdBy"),
    ("Last Rotate Date", "lastRotateDate"),
    ("Expiration Date", "expirationDate"),
    ("Deletion Date", "deletionDate"),
    ("CRN", "crn"),
]
KEY_COLUMNS = [
    ("Key ID", "id"),
    ("Key Name", "name"),
    ("Type", "key_type"),
    ("State", "state_name"),
    ("Key Ring", "keyRingID"),
]
RING_COLUMNS = [
    ("Key Ring ID", "id"),
    ("Creation Date", "creationDate"),
    ("Created By", "createdBy"),
]
POLICY_COLUMNS = [
    ("Policy Type", "policy_type"),
    ("Enabled", "enabled"),
    ("Attributes", "attributes"),
    ("Last Updated", "lastUpdated"),
]


def key_view(key: dict[str, Any]) -> dict[str, Any]:
    """The key with the derived cells the tables show."""
    state = key.get("state")
    version = key.get("keyVersion")
    return {
        **key,
        "key_type": "standard_key" if key.get("extractable") else "root_key",
        "state_name": STATES.get(state, str(state)) if isinstance(state, int) else state,
        "alias_list": ", ".join(str(a) for a in key.get("aliases") or []) or None,
        "version_id": version.get("id") if isinstance(version, dict) else None,
    }


def show_key(key: dict[str, Any]) -> None:
    view = key_view(key)
    show_fields(view, [(label, name) for label, name in KEY_FIELDS if view.get(name) is not None])


def show_answer(answer: dict[str, Any], fields: list[tuple[str, str]]) -> None:
    """A wrap or unwrap answer: the fields it has, nested `{id}`s flattened."""
    flat = {k: v.get("id") if isinstance(v, dict) else v for k, v in answer.items()}
    show_fields(flat, [(label, name) for label, name in fields if flat.get(name) is not None])


def policy_row(policy: dict[str, Any]) -> dict[str, Any]:
    data = policy.get("policy_data")
    data = data if isinstance(data, dict) else {}
    attributes = data.get("attributes")
    cells = [
        f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in (attributes.items() if isinstance(attributes, dict) else ())
    ]
    return {
        "policy_type": policy.get("policy_type"),
        "enabled": data.get("enabled"),
        "attributes": ", ".join(cells),
        "lastUpdated": policy.get("lastUpdated") or policy.get("creationDate"),
    }
