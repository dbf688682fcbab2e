"""How registrations look on the wire (spec kms-api.md §3.8, Appendix A)."""

from __future__ import annotations

from typing import Any

from strongroom.api.schemas.kms import rfc3339
from strongroom.kms.registrations import RegistrationView


def registration_out(view: RegistrationView) -> dict[str, Any]:
    r = view.registration
    out: dict[str, Any] = {
        "keyId": r.key_id,
        "keyName": view.key_name,
        "resourceCrn": r.resource_crn,
        "createdBy": r.created.by,
        "creationDate": rfc3339(r.created.at),
        "updatedBy": r.updated.by,
        "lastUpdated": rfc3339(r.updated.at),
        "description": r.description,
        "preventKeyDeletion": r.prevent_key_deletion,
        "keyVersion": {"id": r.key_version_id, "creationDate": rfc3339(r.key_version_created_at)},
    }
    if view.to_service:  # internal to the registering service (spec §3.8)
        out["registrationMetadata"] = r.metadata
    return out
