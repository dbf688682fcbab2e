"""`strongroom resource service-instance…`, after `ibmcloud resource service-instance…`:
create, list, show and delete service instances through the Resource Controller API (spec §8).

The commands are plain functions registered onto the `resource` sub-app by `register`, so that
they sit beside the resource-group commands (`cli/resource.py`). Plan names are resolved from
the plan catalog the server ships (`strongroom/resources/plans.yaml`), as `ibmcloud` resolves
them from the global catalog; a plan id is passed as it is.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlparse

import typer
from rich.markup import escape

from strongroom.cli.client import Client, CliError
from strongroom.cli.iam import (
    ForceOption,
    Output,
    OutputOption,
    confirm_delete,
    connected,
    out,
    print_json,
    reports_failures,
    show_fields,
    show_table,
)
from strongroom.errors import Invalid
from strongroom.resources.plans import load_plans

INSTANCES = "/v2/resource_instances"
FIELDS = [
    ("Name", "name"),
    ("ID", "id"),
    ("GUID", "guid"),
    ("Location", "region_id"),
    ("Service Name", "resource_id"),
    ("Service Plan", "resource_plan_id"),
    ("Resource Group ID", "resource_group_id"),
    ("State", "state"),
    ("Locked", "locked"),
    ("Created At", "created_at"),
    ("Updated At", "updated_at"),
]
COLUMNS = [("Name", "name"), ("Location", "region_id"), ("State", "state"),
           ("Type", "resource_id"), ("GUID", "guid")]  # fmt: skip

GroupOption = Annotated[
    str, typer.Option("-g", "--resource-group-id", help="the resource group's ID (32 hex)")
]
ParametersOption = Annotated[
    str | None, typer.Option("-p", "--parameters", help="parameters as a JSON object")
]


def all_instances(client: Client, params: dict[str, str | int]) -> list[dict[str, Any]]:
    """Every page of the list, following `start` in `next_url` (spec §2.6)."""
    found: list[dict[str, Any]] = []
    query = dict(params)
    while True:
        page = client.get(INSTANCES, query)
        found.extend(page.get("resources") or [])
        link = page.get("next_url")
        if not link:
            return found
        query["start"] = parse_qs(urlparse(str(link)).query)["start"][0]


def find_instance(client: Client, ref: str) -> dict[str, Any]:
    """An instance named by CRN, GUID or exact name; a name must match one only."""
    if ref.startswith("crn:"):
        return client.get(f"{INSTANCES}/{quote(ref, safe='')}")
    matches = all_instances(client, {"name": ref}) or all_instances(client, {"guid": ref})
    if not matches:
        raise CliError(f"no service instance named `{ref}`")
    if len(matches) > 1:
        guids = ", ".join(str(m.get("guid")) for m in matches)
        raise CliError(f"{len(matches)} service instances are named `{ref}` ({guids}); use a GUID")
    return matches[0]


@reports_failures
def service_instance_create(
    name: Annotated[str, typer.Argument(help="the new instance's name")],
    service: Annotated[str, typer.Argument(metavar="SERVICE_NAME", help="e.g. kms")],
    plan: Annotated[
        str, typer.Argument(metavar="SERVICE_PLAN_NAME|ID", help="e.g. tiered-pricing")
    ],
    location: Annotated[str, typer.Argument(help="e.g. us-south, or global")] = "global",
    resource_group_id: GroupOption = "",
    parameters: ParametersOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Create a service instance."""
    if not resource_group_id:
        raise CliError("name the resource group with -g/--resource-group-id")
    try:
        plan_id = load_plans().plan_of(service, plan).id
    except Invalid as exc:  # the catalog's message names the service or the plan
        raise CliError(exc.message) from exc
    body: dict[str, Any] = {"name": name, "target": location, "resource_plan_id": plan_id,
                            "resource_group": resource_group_id}  # fmt: skip
    if parameters is not None:
        try:
            body["parameters"] = json.loads(parameters)
        except ValueError as exc:
            raise CliError(f"--parameters is not JSON: {exc}") from exc
    with connected() as (_, client):
        made = client.post(INSTANCES, body)
    if output is Output.json:
        print_json(made)
        return
    out.print(f"[green]OK[/green] service instance {escape(name)} created")
    show_fields(made, FIELDS)


@reports_failures
def service_instances(
    service_name: Annotated[
        str | None, typer.Option("--service-name", help="only this service's instances")
    ] = None,
    output: OutputOption = Output.text,
) -> None:
    """List the service instances you may see."""
    params: dict[str, str | int] = {"resource_id": service_name} if service_name else {}
    with connected() as (_, client):
        found = all_instances(client, params)
    if output is Output.json:
        print_json(found)
        return
    show_table(found, COLUMNS, "No service instances found.")


@reports_failures
def service_instance(
    ref: Annotated[str, typer.Argument(metavar="NAME|GUID|CRN")],
    output: OutputOption = Output.text,
) -> None:
    """Show one service instance."""
    with connected() as (_, client):
        found = find_instance(client, ref)
    if output is Output.json:
        print_json(found)
        return
    show_fields(found, FIELDS)


@reports_failures
def service_instance_delete(
    ref: Annotated[str, typer.Argument(metavar="NAME|GUID|CRN")],
    force: ForceOption = False,
    recursive: Annotated[bool, typer.Option("--recursive", help="delete its keys too")] = False,
    output: OutputOption = Output.text,
) -> None:
    """Delete a service instance (it waits for reclamation, restorable until reclaimed)."""
    with connected() as (_, client):
        found = find_instance(client, ref)
        confirm_delete("service instance", found, force)
        query = "?recursive=true" if recursive else ""
        client.delete(f"{INSTANCES}/{quote(str(found['guid']), safe='')}{query}")
    if output is Output.json:
        print_json(found)
        return
    out.print(f"[green]OK[/green] service instance {escape(str(found['name']))} deleted")


def register(app: typer.Typer) -> None:
    """Add the service-instance commands to the `resource` sub-app."""
    app.command("service-instance-create")(service_instance_create)
    app.command("service-instances")(service_instances)
    app.command("service-instance")(service_instance)
    app.command("service-instance-delete")(service_instance_delete)
