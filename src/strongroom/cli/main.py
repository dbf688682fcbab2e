"""The `strongroom` command, named after `ibmcloud`: `serve`, `login`, `iam …`."""

from __future__ import annotations

import typer

from strongroom.cli import iam, resource_instances
from strongroom.cli.serve import serve

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="strongroom: IAM and key management."
)
app.command()(serve)
app.command()(iam.login)
app.command()(iam.logout)
app.add_typer(iam.app, name="iam")

# LEAD: at merge, drop this sub-app and call `resource_instances.register(resource.app)` on the
# resource-group sub-app of cli/resource.py (branch `rmgr`), which is mounted as `resource`.
resource_app = typer.Typer(no_args_is_help=True, help="Manage resource instances.")
resource_instances.register(resource_app)
app.add_typer(resource_app, name="resource")


@app.callback()
def main() -> None:
    """strongroom: IAM and key management that speaks IBM Cloud's own APIs."""
