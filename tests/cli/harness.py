"""Running the CLI in-process, with CliRunner, and reading back what it saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from strongroom.cli.main import app


class Cli:
    def __init__(self, config_dir: Path) -> None:
        self.runner = CliRunner()
        self.config_dir = config_dir
        self.session_file = config_dir / "session.json"

    def __call__(self, *args: str, stdin: str | None = None) -> Result:
        return self.runner.invoke(app, list(args), input=stdin)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--output", "json").stdout)

    def session(self) -> dict[str, Any]:
        saved: dict[str, Any] = json.loads(self.session_file.read_text())
        return saved

    def write_session(self, **changes: Any) -> None:
        self.session_file.write_text(json.dumps({**self.session(), **changes}))
