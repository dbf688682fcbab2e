"""The shipped catalogs are read with libyaml's safe loader when PyYAML has it (a restart spent
most of its time in the pure-Python parser; reliability.md S1), and that reads exactly what the
pure-Python safe loader reads."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from strongroom.policy import catalog


def test_catalogs_load_with_the_fast_safe_loader_and_read_the_same() -> None:
    if yaml.__with_libyaml__:
        assert catalog.SAFE_LOADER is yaml.CSafeLoader
    assert issubclass(catalog.SAFE_LOADER, (yaml.SafeLoader, getattr(yaml, "CSafeLoader", ())))
    folder = resources.files("strongroom.catalogs")
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            text = entry.read_text()
            assert yaml.load(text, Loader=catalog.SAFE_LOADER) == yaml.safe_load(text), (  # noqa: S506
                entry.name
            )
    assert catalog.load_catalog() == catalog.catalog_from(
        (e.name, yaml.safe_load(e.read_text()))
        for e in sorted(folder.iterdir(), key=lambda e: e.name)
        if e.name.endswith(".yaml")
    )


def test_the_fast_loader_is_still_safe() -> None:
    """No Python objects from tags: a catalog cannot run code."""
    with pytest.raises(yaml.YAMLError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=catalog.SAFE_LOADER)  # noqa: S506
