"""The policies every new account's owner receives, as real, visible policies (seed 003: "Account
owners are automatically assigned the account administrator role"; seed 004: the owner "can
assign and manage access ... create resource groups, ... create service instances").

IBM shows them as two grants: Administrator and Manager on "All Account Management services"
(`serviceType: platform_service`) and on "All Identity and Access enabled services"
(`serviceType: service`). There is no hidden bypass: the owner is permitted exactly what these
policies permit, and deleting them takes that access away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strongroom.access.records import new_record
from strongroom.identity.models import Account, User
from strongroom.store.ports import UnitOfWork

ADMINISTRATOR = "crn:v1:bluemix:public:iam::::role:Administrator"
MANAGER = "crn:v1:bluemix:public:iam::::serviceRole:Manager"


def owner_documents(account_id: str, owner_iam_id: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "access",
            "description": description,
            "subject": {
                "attributes": [{"key": "iam_id", "operator": "stringEquals", "value": owner_iam_id}]
            },
            "resource": {
                "attributes": [
                    {"key": "accountId", "operator": "stringEquals", "value": account_id},
                    {"key": "serviceType", "operator": "stringEquals", "value": service_type},
                ]
            },
            "control": {"grant": {"roles": [{"role_id": ADMINISTRATOR}, {"role_id": MANAGER}]}},
        }
        for service_type, description in (
            ("platform_service", "Account owner: all account management services"),
            ("service", "Account owner: all Identity and Access enabled services"),
        )
    ]


def grant_owner(uow: UnitOfWork, account: Account, owner: User) -> None:
    """Runs inside the unit of work that creates the account, so the two never come apart."""
    grant_owner_like(uow, account.id, owner.iam_id, account.created_at)


def grant_owner_like(uow: UnitOfWork, account_id: str, iam_id: str, now: datetime) -> None:
    """The owner's two policies for another identity in the same account: e.g. the service ID
    an enterprise makes in a new account (spec §9 `create_iam_service_id_with_apikey_and_owner_
    policies`). Runs in the caller's unit of work and bumps the account's revision."""
    for document in owner_documents(account_id, iam_id):
        uow.policies.add(
            new_record(document, version="v2", account_id=account_id, by=iam_id, now=now)
        )
    uow.revisions.bump(account_id)
