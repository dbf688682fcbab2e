"""Account limits (limits.yaml; reliability.md §4, C7): the shipped defaults are IBM's table,
the operator overrides them by name through STRONGROOM_LIMITS__<NAME>, and a typo or a value
below 1 stops the server instead of silently leaving IBM's value in force."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.errors import ConfigurationError
from strongroom.limits import NAMES, LimitsError, defaults, load_limits

# reliability.md §1, the IBM Cloud IAM row, restated.
IBM = {
    "policies_per_account": 4020,
    "policies_per_subject": 1000,
    "access_groups_per_account": 500,
    "access_groups_per_member": 50,
    "rules_per_access_group": 5,
    "service_ids_per_account": 2000,
    "profiles_per_account": 2000,
    "custom_roles_per_account": 40,
    "api_keys_per_identity": 20,
}


def test_the_defaults_are_ibms_table() -> None:
    assert defaults() == IBM
    assert set(NAMES) == set(IBM)
    limits = load_limits()
    assert {name: getattr(limits, name) for name in NAMES} == IBM


def test_an_override_replaces_one_limit_only() -> None:
    limits = load_limits({"POLICIES_PER_ACCOUNT": "25", "api_keys_per_identity": 3})
    assert limits.policies_per_account == 25
    assert limits.api_keys_per_identity == 3
    assert limits.service_ids_per_account == IBM["service_ids_per_account"]


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"policies_per_acount": 5}, "unknown limit `policies_per_acount`"),
        ({"policies_per_account": 0}, "at least 1"),
        ({"policies_per_account": "many"}, "whole number"),
        ({"policies_per_account": True}, "whole number"),
    ],
)
def test_bad_overrides_are_refused_naming_them(overrides: dict[str, object], said: str) -> None:
    with pytest.raises(LimitsError, match=said):
        load_limits(overrides)


def test_the_environment_sets_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_LIMITS__POLICIES_PER_ACCOUNT", "100")
    monkeypatch.setenv("STRONGROOM_LIMITS__ACCESS_GROUPS_PER_ACCOUNT", "7")
    settings = Settings()
    limits = load_limits(settings.limits)
    assert limits.policies_per_account == 100
    assert limits.access_groups_per_account == 7
    assert limits.custom_roles_per_account == IBM["custom_roles_per_account"]


def test_the_environment_sets_limits_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_LIMITS", '{"profiles_per_account": 9}')
    assert load_limits(Settings().limits).profiles_per_account == 9


def test_a_bad_limit_stops_the_server_before_it_writes_anything(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, limits={"service_ids": 10})
    with pytest.raises(ConfigurationError, match="unknown limit `service_ids`"):
        bootstrap.build(settings)
    assert list(tmp_path.iterdir()) == []  # no database, no root key
