"""TEMPORARY, for the lead to replace at merge: resource groups belong to the Resource Manager
(branch `rmgr`, spec §7). Until its lookup is wired in bootstrap as `find_resource_group`,
any 32-hex id is taken for a group of the caller's account."""

from __future__ import annotations

import re

from strongroom.store.ports import UnitOfWork

_GROUP_ID = re.compile(r"^[0-9a-f]{32}$")


def find_resource_group_by_id_only(uow: UnitOfWork, account_id: str, group_id: str) -> str | None:
    """The group's CRN (spec §3.5) if `group_id` looks like a group id; checks nothing else."""
    if not _GROUP_ID.match(group_id):
        return None
    return f"crn:v1:bluemix:public:resource-controller::a/{account_id}::resource-group:{group_id}"
