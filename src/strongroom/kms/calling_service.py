"""Who counts as a *service* for the service-to-service routes of Key Protect: registration
create/replace/update/delete and event acknowledgement (spec kms-api.md §1.5 SERVICE_ONLY_ERR,
§3.8).

IBM's services call those routes with a token of their own service identity (a "CRN token").
strongroom has no service identities apart from instances, so its analogue is the service
credential of an instance: a caller is a service when its token's subject is the service ID of
an active resource key (spec ibm-platform-api.md §8; resources/keys.py makes the key, its
service ID, API key and policy together, on the platform's authority). It then speaks for that
key's instance: a `cloud-object-storage` instance's credential registers that instance's
buckets. A user, a trusted profile, or a service ID made by hand through the IAM Identity API is
not a service, whatever its `unique_instance_crns` say, since anyone allowed to create service
IDs could write those.

Being a service grants nothing by itself: the caller still needs the route's IAM action on the
key or instance, through an access policy like any caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom import ids
from strongroom.crn import CRN
from strongroom.kms.errors import KmsError
from strongroom.store.ports import KeyQuery, UnitOfWork
from strongroom.tokens.claims import Principal


@dataclass(frozen=True, slots=True)
class CallingService:
    service_name: str  # the instance's service, e.g. `cloud-object-storage`
    instance_id: str  # its GUID
    instance_crn: str

    def owns(self, resource_crn: str) -> bool:
        """A resource is this caller's when its CRN names this service and this instance."""
        try:
            crn = CRN.parse(resource_crn)
        except ValueError:
            return False
        return crn.service_name == self.service_name and crn.service_instance == self.instance_id


def calling_service(uow: UnitOfWork, principal: Principal) -> CallingService | None:
    """The instance whose service credential `principal` is, or None for any other caller."""
    if not principal.is_service_id:
        return None
    for key in uow.resource_keys.list(KeyQuery(account_id=principal.account_id)):
        if ids.service_id_iam_id(key.service_id) == principal.iam_id:
            return CallingService(key.resource_id, key.source_guid, key.source_crn)
    return None


def require_service(uow: UnitOfWork, principal: Principal, *, what: str) -> CallingService:
    found = calling_service(uow, principal)
    if found is None:
        raise KmsError(
            "SERVICE_ONLY_ERR",
            f"only a service may do this: `{principal.iam_id}` is not the service credential"
            " (resource key) of a service instance",
            what=what,
        )
    return found
