"""The `strongroom` command, named after `ibmcloud`: `serve`, `login`, `iam …`, `resource …`,
`kp …`, `audit …`."""

from __future__ import annotations

import typer

from strongroom.cli import audit, iam, kp, resource, resource_instances
from strongroom.cli.serve import serve

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="strongroom: IAM and key management."
)
app.command()(serve)
app.command()(iam.login)
app.command()(iam.logout)
app.add_typer(iam.app, name="iam")
resource_instances.register(resource.app)  # `resource service-instance…` beside the groups
app.add_typer(resource.app, name="resource")
app.add_typer(kp.app, name="kp")
app.add_typer(audit.app, name="audit")


@app.callback()
def main() -> None:
    """strongroom: IAM and key management that speaks IBM Cloud's own APIs."""
