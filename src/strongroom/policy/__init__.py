"""The policy decision point: a pure function of a request, a compiled policy set and a catalog.

No I/O, no clock, no logging: time comes in the request. Imports nothing else in strongroom
except `crn` and `ids` (ARCHITECTURE.md, "Layers").
"""

from strongroom.policy.catalog import Catalog, CatalogError, Role, Service, load_catalog
from strongroom.policy.compile import PolicySet, compile_policies
from strongroom.policy.decide import decide, permits, roles_held
from strongroom.policy.model import (
    Condition,
    Decision,
    Policy,
    PolicyError,
    Request,
    Rule,
    Subject,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "Condition",
    "Decision",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Request",
    "Role",
    "Rule",
    "Service",
    "Subject",
    "compile_policies",
    "decide",
    "load_catalog",
    "permits",
    "roles_held",
]
