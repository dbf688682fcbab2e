"""Cloud Resource Names (spec ibm-platform-api.md §3.5).

`crn:v1:<cname>:<ctype>:<service-name>:<location>:<scope>:<service-instance>:<resource-type>:<resource>`
— ten colon-separated segments, any of the last eight may be empty.
"""

from __future__ import annotations

from dataclasses import dataclass

SEGMENTS = 10


class CRNError(ValueError):
    """A string that is not a well-formed CRN."""


@dataclass(frozen=True, slots=True)
class CRN:
    cname: str = "bluemix"
    ctype: str = "public"
    service_name: str = ""
    location: str = ""
    scope: str = ""
    service_instance: str = ""
    resource_type: str = ""
    resource: str = ""

    def __str__(self) -> str:
        return ":".join(
            (
                "crn",
                "v1",
                self.cname,
                self.ctype,
                self.service_name,
                self.location,
                self.scope,
                self.service_instance,
                self.resource_type,
                self.resource,
            )
        )

    @property
    def account_id(self) -> str | None:
        """The account of an `a/<account>` scope, else None."""
        return self.scope[2:] if self.scope.startswith("a/") else None

    @classmethod
    def parse(cls, text: str) -> CRN:
        # The resource segment may itself contain colons, so split at most nine times.
        parts = text.split(":", SEGMENTS - 1)
        if len(parts) != SEGMENTS or parts[0] != "crn" or parts[1] != "v1":
            raise CRNError(f"`{text}` is not a CRN of the form crn:v1:<cname>:<ctype>:...")
        if not parts[2] or not parts[3]:
            raise CRNError(f"`{text}` has an empty cname or ctype")
        return cls(*parts[2:])


def account_scope(account_id: str) -> str:
    return f"a/{account_id}"


def iam_identity_crn(account_id: str, resource_type: str, resource: str) -> str:
    """CRN of an IAM Identity object: service IDs, API keys, profiles (§3.5)."""
    return str(
        CRN(
            service_name="iam-identity",
            scope=account_scope(account_id),
            resource_type=resource_type,
            resource=resource,
        )
    )
