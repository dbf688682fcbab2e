"""`strongroom resource …`, after `ibmcloud resource`: resource groups (spec §7). Service
instance commands (`resource service-instance…`) join this sub-app.

Every command is a few HTTP calls through `Client`, like `strongroom iam …`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from strongroom.cli.client import Client, CliError
from strongroom.cli.iam import (
    Output,
    OutputOption,
    connected,
    out,
    print_json,
    reports_failures,
    show_fields,
    show_table,
)

app = typer.Typer(no_args_is_help=True, help="Manage resource groups.")

GROUPS = "/v2/resource_groups"
GROUP_FIELDS = [
    ("Name", "name"),
    ("ID", "id"),
    ("Account ID", "account_id"),
    ("State", "state"),
    ("Default Resource Group", "default"),
    ("Quota ID", "quota_id"),
    ("Created At", "created_at"),
    ("Updated At", "updated_at"),
    ("CRN", "crn"),
]
GROUP_COLUMNS = [("Name", "name"), ("ID", "id"), ("Default Group", "default"), ("State", "state")]
NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="the resource group's name")]


def list_groups(client: Client, **params: str) -> list[dict[str, Any]]:
    return list(client.get(GROUPS, params).get("resources", []))


def find_group(client: Client, ref: str) -> dict[str, Any]:
    """A live group named `ref` (exactly), else one whose ID is `ref`."""
    groups = list_groups(client)
    for match in (g for g in groups if g.get("name") == ref):
        return match
    for match in (g for g in groups if g.get("id") == ref):
        return match
    raise CliError(f"no resource group named `{ref}`")


@app.command("group-create")
@reports_failures
def group_create(name: NameArgument, output: OutputOption = Output.text) -> None:
    """Create a resource group in the account."""
    with connected() as (me, client):
        created = client.post(GROUPS, {"name": name, "account_id": me.account_id})
        group = client.get(f"{GROUPS}/{quote(str(created.get('id')), safe='')}")
    if output is Output.json:
        print_json(group)
        return
    out.print(f"[green]OK[/green] resource group [bold]{escape(name)}[/bold] created")
    show_fields(group, GROUP_FIELDS)


@app.command("groups")
@reports_failures
def groups(
    default: Annotated[bool, typer.Option("--default", help="only the default group")] = False,
    output: OutputOption = Output.text,
) -> None:
    """List the account's resource groups."""
    with connected() as (me, client):
        params = {"account_id": me.account_id}
        if default:
            params["default"] = "true"
        found = list_groups(client, **params)
    if output is Output.json:
        print_json(found)
        return
    show_table(found, GROUP_COLUMNS, "No resource groups found.")


@app.command("group")
@reports_failures
def group(
    name: NameArgument,
    only_id: Annotated[bool, typer.Option("--id", help="print the ID only")] = False,
    output: OutputOption = Output.text,
) -> None:
    """Show a resource group, named by its name (or ID)."""
    with connected() as (_, client):
        found = find_group(client, name)
    if only_id:
        typer.echo(str(found.get("id")))
    elif output is Output.json:
        print_json(found)
    else:
        show_fields(found, GROUP_FIELDS)
