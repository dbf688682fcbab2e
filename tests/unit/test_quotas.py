"""The shipped quota definitions load, and their default is the one migration 0006 gives the
`Default` groups it makes for accounts older than it."""

from __future__ import annotations

import importlib

import pytest

from strongroom.resources.quotas import load_quotas, quota_catalog_from


def test_the_default_quota_is_the_one_migration_0006_uses() -> None:
    migration = importlib.import_module("strongroom.store.migrations.versions.0006_resource_groups")
    quotas = load_quotas()
    assert quotas.default.id == migration.DEFAULT_QUOTA_ID
    assert quotas.default.name == "Pay-as-you-go Quota"
    assert {q.name for q in quotas.all()} >= {"Trial Quota", "Pay-as-you-go Quota"}


def test_a_catalog_needs_exactly_one_default() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        quota_catalog_from([])
