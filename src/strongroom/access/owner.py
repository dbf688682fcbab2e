"""The policies every new account's owner receives, as real, visible policies (seed 003: "Account
owners are automatically assigned the account administrator role"; seed 004: the owner "can
assign and manage access ... create resource groups, ... create service instances").

IBM shows them as two grants: Administrator and Manager on "All Account Management services"
(`serviceType: platform_service`) and on "All Identity and Access enabled services"
(`serviceType: service`). There is no hidden bypass: the owner is permitted exactly what these
policies permit, and deleting them takes that access away.
"""

from __future__ import annotations

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
    for document in owner_documents(account.id, owner.iam_id):
        uow.policies.add(
            new_record(
                document,
                version="v2",
                account_id=account.id,
                by=owner.iam_id,
                now=account.created_at,
            )
        )
    uow.revisions.bump(account.id)
