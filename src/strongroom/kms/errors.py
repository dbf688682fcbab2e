"""Key management errors carry Key Protect's reason codes (spec kms-api.md §1.5).

The domain names the reason (`KEY_NOT_FOUND_ERR`) and what could not be done ("Key could not
be retrieved"); `api/errors.py` alone turns them into HTTP statuses and the KMS error envelope.
"""

from __future__ import annotations

from strongroom.errors import StrongroomError


class KmsError(StrongroomError):
    """A refused key-management request.

    - `code`: the reason code of spec §1.5 (its HTTP status is looked up in api/errors.py);
    - `what`: the `<what> could not be <done>` part of `errorMsg` ("Key could not be deleted");
    - `target`: the field at fault, for field errors.
    """

    def __init__(self, code: str, message: str, *, what: str = "", target: str | None = None):
        super().__init__(message, code=code)
        self.what = what
        self.target = target
