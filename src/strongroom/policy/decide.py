"""`decide(request, policy_set) -> Decision`, and the explanation of a denial.

The combination rule has one row, because IAM has no deny policies: any active policy that
matches subject, resource and rule, and holds a role granting the action on the resource's
service, permits; otherwise the request is denied.
"""

from __future__ import annotations

from functools import partial

from strongroom.policy.compile import (
    ANY_SERVICE,
    SELECTIVE,
    Bucket,
    BucketName,
    PolicySet,
    subject_keys,
)
from strongroom.policy.model import Decision, Request


def _service(request: Request, policy_set: PolicySet) -> str:
    """Whose catalog says which roles grant the action: the resource's service, except for a
    service whose actions act on other services' instances (seed 004 table 1: platform roles
    on a service manage its instances' aliases, bindings and credentials)."""
    action = request.action
    named = request.resource.get("serviceName")
    if named and action.startswith(named) and action[len(named) : len(named) + 1] == ".":
        return named  # the action is the resource's own service's: the common case
    own = action.partition(".")[0]
    if own in policy_set.catalog.instance_services:
        return own
    return named or own


def permits(request: Request, policy_set: PolicySet) -> bool:
    """`decide(request, policy_set).permitted`, for a caller that needs only the answer: no
    Decision is built, nor anything to explain it later (the bulk `/v2/authz` path)."""
    account = request.resource.get("accountId")
    if not account:
        return False
    service = _service(request, policy_set)
    return bool(_permitting(request, policy_set, account, service, first=True))


def decide(request: Request, policy_set: PolicySet) -> Decision:
    account = request.resource.get("accountId")
    if not account:
        return Decision(False, (), "the resource names no `accountId`")
    service = _service(request, policy_set)
    # No closures here: a variable an inner function captures becomes a cell on every call,
    # and reads of it slow down; `partial` binds the same arguments for later in one object.
    if not _permitting(request, policy_set, account, service, first=True):
        return Decision(False, (), partial(explain_denial, request, policy_set, account, service))
    return Decision(True, partial(_every, request, policy_set, account, service))


def _every(request: Request, policy_set: PolicySet, account: str, service: str) -> tuple[str, ...]:
    """Every policy that permits the request, sorted: what an explanation lists."""
    return tuple(sorted(_permitting(request, policy_set, account, service)))


def _permitting(
    request: Request, policy_set: PolicySet, account: str, service: str, *, first: bool = False
) -> list[str]:
    """The ids of the policies that permit the request; with `first`, at most one.

    The hot path of every check. It reads the caller's buckets straight from the account's
    index, in the order `subject_keys` gives them (which the other readers use), without
    building the keys.
    """
    found: list[str] = []
    index = policy_set.index.get(account)
    if index is None:
        return found
    # PolicySet.lookups, inline: the buckets this resource can reach under any subject.
    resource = request.resource
    lookups: list[BucketName] = [resource.get("serviceName", ""), ANY_SERVICE]
    for attribute in SELECTIVE:
        value = resource.get(attribute)
        if value is not None:
            lookups.append((attribute, value))
    subject = request.subject
    if subject.iam_id:
        bucket = index.iam_id.get(subject.iam_id)
        if bucket is not None and _walk(
            request, policy_set, bucket, lookups, service, found, first
        ):
            return found
    for group_id in subject.access_groups:
        bucket = index.group.get(group_id)
        if bucket is not None and _walk(
            request, policy_set, bucket, lookups, service, found, first
        ):
            return found
    calling = subject.attributes.get("serviceName") if subject.attributes else None
    if calling:
        bucket = index.service.get(calling)
        if bucket is not None:
            _walk(request, policy_set, bucket, lookups, service, found, first)
    return found


def _walk(
    request: Request,
    policy_set: PolicySet,
    bucket: Bucket,
    lookups: list[BucketName],
    service: str,
    found: list[str],
    first: bool,
) -> bool:
    """Add the permitting policies of one subject's bucket to `found`; True to stop there."""
    action = request.action
    kind_of = policy_set.kind_of
    for lookup in lookups:
        groups = bucket.get(lookup)
        if groups is None:
            continue
        for group in groups:
            # The action first, once per group of policies with the same roles: most groups
            # end here.
            if group.service == service:
                granted = group.granted
            else:
                granted = policy_set.granted(group.roles, service)
            if action not in granted:
                continue
            for candidate in group.policies:
                if candidate.matches(request, kind_of):
                    found.append(candidate.id)
                    if first:
                        return True
    return False


def roles_held(request: Request, policy_set: PolicySet) -> frozenset[str]:
    """The role CRNs the subject holds on the request's resource (its action is ignored).

    Used where IAM asks for a role rather than an action: seed 003 table 4 lets only an
    administrator of a resource create policies on it.
    """
    account = request.resource.get("accountId")
    if not account:
        return frozenset()
    return frozenset(
        role
        for candidate in policy_set.candidates(account, subject_keys(request), request.resource)
        if candidate.matches(request, policy_set.kind_of)
        for role in candidate.policy.roles
    )


def explain_denial(request: Request, policy_set: PolicySet, account: str, service: str) -> str:
    """Why nothing permitted: no policy for the subject, none on the resource, or weak roles."""
    action = request.action
    subject = request.subject
    who = subject.iam_id or subject.attributes.get("serviceName", "the subject")
    candidates = list(policy_set.candidates(account, subject_keys(request)))
    if not candidates:
        return f"no policy in account `{account}` names `{who}` or its access groups"
    reachable = policy_set.candidates(account, subject_keys(request), request.resource)
    on_resource = [c for c in reachable if c.matches(request, policy_set.kind_of)]
    if not on_resource:
        return (
            f"{len(candidates)} policies name `{who}`,"
            " but none matches this resource and its conditions"
        )
    needed = _roles_granting(policy_set, service, action)
    held = sorted({_role_name(policy_set, service, r) for c in on_resource for r in c.policy.roles})
    need_text = " or ".join(needed) if needed else "a role no catalog defines"
    return (
        f"a policy matches the resource but grants only {', '.join(held)};"
        f" `{action}` needs {need_text}"
    )


def _roles_granting(policy_set: PolicySet, service: str, action: str) -> list[str]:
    found = policy_set.catalog.service(service)
    if found is None:
        return []
    return sorted(role.name for role in found.roles.values() if action in role.actions)


def _role_name(policy_set: PolicySet, service: str, role: str) -> str:
    """A role's short name on `service` (`Viewer`, `ReaderPlus`; a custom role's own name)."""
    found = policy_set.catalog.service(service)
    if found is not None and role in found.roles:
        return found.roles[role].name
    return role.rsplit(":", 1)[-1]
