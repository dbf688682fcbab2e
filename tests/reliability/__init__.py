"""Reliability tests of issue 8 (reliability.md C2, C6/S3a, S1): tenant isolation, concurrent
writers with If-Match, and durability across `kill -9`. Heavy versions run with
STRONGROOM_HEAVY=1."""

from __future__ import annotations

import os

HEAVY = os.environ.get("STRONGROOM_HEAVY") == "1"
