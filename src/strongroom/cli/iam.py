"""`strongroom login`/`logout` and `strongroom iam …`, after `ibmcloud login` and `ibmcloud iam`.

Every command is a few HTTP calls through `Client`; failures surface as `FAILED` and the
server's own message on stderr, with exit status 1.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from strongroom.cli import session
from strongroom.cli.client import Client, CliError

app = typer.Typer(no_args_is_help=True, help="Manage IAM identities: service IDs and API keys.")
# soft_wrap: messages stay one line each when piped (Rich would wrap them at 80 columns).
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
PIPED_WIDTH = 1000

SERVICE_IDS = "/v1/serviceids/"  # the trailing slash is part of IBM's path
API_KEYS = "/v1/apikeys"
P = ParamSpec("P")


class Output(StrEnum):
    text = "text"
    json = "json"


OutputOption = Annotated[
    Output,
    typer.Option("--output", case_sensitive=False, help="`json` prints the API's JSON answer."),
]
DescriptionOption = Annotated[str, typer.Option("-d", "--description", help="a description")]
ForceOption = Annotated[bool, typer.Option("-f", "--force", help="delete without asking")]


# -- plumbing -----------------------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    err.print("FAILED", style="bold red")
    err.print(message, markup=False)
    raise typer.Exit(1)


def reports_failures(command: Callable[P, None]) -> Callable[P, None]:
    """Turn a CliError into FAILED + message + exit 1, rather than a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except CliError as exc:
            fail(exc.message)

    return run


@contextmanager
def connected() -> Iterator[tuple[session.Session, Client]]:
    me = session.current()
    with me.client() as client:
        yield me, client


def show(renderable: Table) -> None:
    """A table at its natural width when piped, not wrapped at 80 columns: grep and cut need
    one row per line. On a terminal Rich fits it to the window."""
    console = Console(highlight=False)
    if console.is_terminal:
        console.print(renderable)
        return
    console.width = PIPED_WIDTH
    with console.capture() as captured:
        console.print(renderable)
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def text(value: Any) -> Text:
    """A cell as plain text: names come from users and must not be read as Rich markup."""
    if isinstance(value, bool):
        return Text(str(value).lower())
    return Text("" if value is None else str(value))


def show_fields(item: dict[str, Any], fields: Iterable[tuple[str, str]]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, key in fields:
        grid.add_row(label, text(item.get(key)))
    show(grid)


def show_table(items: list[dict[str, Any]], columns: Iterable[tuple[str, str]], empty: str) -> None:
    if not items:
        out.print(empty)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    keys = []
    for label, key in columns:
        # IDs are what users copy: never wrap or cut them.
        table.add_column(label, no_wrap=key == "id", overflow="fold")
        keys.append(key)
    for item in items:
        table.add_row(*(text(item.get(k)) for k in keys))
    show(table)


def resolve(
    ref: str, *, kind: str, id_prefix: str, get: Callable[[str], dict[str, Any]],
    candidates: Callable[[], Iterable[dict[str, Any]]],
) -> dict[str, Any]:  # fmt: skip
    """An object named by ID (`id_prefix…`) or by its exact name; a name must match one only."""
    if ref.startswith(id_prefix):
        return get(quote(ref, safe=""))
    matches = [item for item in candidates() if item.get("name") == ref]
    if not matches:
        raise CliError(f"no {kind} named `{ref}`")
    if len(matches) > 1:
        ids = ", ".join(str(m.get("id")) for m in matches)
        raise CliError(f"{len(matches)} {kind}s are named `{ref}` ({ids}); name one by its ID")
    return matches[0]


def confirm_delete(kind: str, item: dict[str, Any], force: bool) -> None:
    if not force:
        typer.confirm(f"Delete {kind} `{item.get('name')}` ({item.get('id')})?", abort=True)


def read_apikey(value: str) -> str:
    """`@path` reads the key from a file, as `ibmcloud login --apikey @file` does: either the
    JSON that `iam api-key-create --file` writes, or the bare key."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        content = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CliError(f"cannot read the API key file {path}: {exc.strerror}") from exc
    try:
        parsed = json.loads(content)
    except ValueError:
        return content
    if isinstance(parsed, dict) and isinstance(parsed.get("apikey"), str):
        return str(parsed["apikey"])
    raise CliError(f"the API key file {path} is JSON without an `apikey` field")


# -- login / logout -----------------------------------------------------------------------------

ApiKeyOption = Annotated[
    str | None,
    typer.Option("--apikey", help="the API key, or @FILE to read it from (asked for if not given)"),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        help=f"the server (default: $STRONGROOM_ENDPOINT, else {session.DEFAULT_ENDPOINT})"
    ),
]


@reports_failures
def login(
    apikey: ApiKeyOption = None,
    endpoint: EndpointOption = None,
) -> None:
    """Log in with an API key; the session (tokens, never the key) is kept for later commands."""
    key = read_apikey(apikey) if apikey else typer.prompt("API key", hide_input=True)
    target = session.login_endpoint(endpoint)
    me, path = session.login(key, target)
    out.print("[green]OK[/green]")
    out.print(f"Logged in as {me.iam_id} in account {me.account_id} at {me.endpoint}", markup=False)
    out.print(f"Session saved in {path}", markup=False)
    if session.env_apikey():
        err.print(f"note: {session.ENV_APIKEY} is set; commands use it, not this session")


def logout() -> None:
    """Forget the stored session."""
    out.print("Logged out." if session.forget() else "Not logged in.")


# -- service IDs --------------------------------------------------------------------------------

SERVICE_ID_FIELDS = [
    ("Name", "name"),
    ("ID", "id"),
    ("IAM ID", "iam_id"),
    ("Description", "description"),
    ("Locked", "locked"),
    ("Created At", "created_at"),
    ("Modified At", "modified_at"),
    ("CRN", "crn"),
]
SERVICE_ID_COLUMNS = [
    ("Name", "name"),
    ("ID", "id"),
    ("Locked", "locked"),
    ("Created At", "created_at"),
    ("Description", "description"),
]


def find_service_id(client: Client, me: session.Session, ref: str) -> dict[str, Any]:
    def named() -> Iterable[dict[str, Any]]:
        query = {"account_id": me.account_id, "name": ref}
        return client.items(SERVICE_IDS, "serviceids", query)

    return resolve(
        ref, kind="service ID", id_prefix="ServiceId-",
        get=lambda ident: client.get(f"{SERVICE_IDS}{ident}"), candidates=named,
    )  # fmt: skip


@app.command("service-id-create")
@reports_failures
def service_id_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the service ID's name")],
    description: DescriptionOption = "",
    lock: Annotated[bool, typer.Option("--lock", help="create it locked")] = False,
    output: OutputOption = Output.text,
) -> None:
    """Create a service ID in the account."""
    with connected() as (me, client):
        body = {"account_id": me.account_id, "name": name, "description": description}
        created = client.post(SERVICE_IDS, body, headers={"Entity-Lock": "true"} if lock else None)
    if output is Output.json:
        print_json(created)
        return
    out.print(f"[green]OK[/green] service ID [bold]{escape(str(created.get('id')))}[/bold] created")
    show_fields(created, SERVICE_ID_FIELDS)


@app.command("service-ids")
@reports_failures
def service_ids(output: OutputOption = Output.text) -> None:
    """List all service IDs of the account."""
    with connected() as (me, client):
        items = list(client.items(SERVICE_IDS, "serviceids", {"account_id": me.account_id}))
    if output is Output.json:
        print_json(items)
        return
    show_table(items, SERVICE_ID_COLUMNS, "No service IDs in this account.")


@app.command("service-id")
@reports_failures
def service_id(
    ref: Annotated[str, typer.Argument(metavar="NAME|ID", help="a name, or an ID (ServiceId-…)")],
    output: OutputOption = Output.text,
) -> None:
    """Show one service ID."""
    with connected() as (me, client):
        found = find_service_id(client, me, ref)
    if output is Output.json:
        print_json(found)
        return
    show_fields(found, SERVICE_ID_FIELDS)


@app.command("service-id-delete")
@reports_failures
def service_id_delete(
    ref: Annotated[str, typer.Argument(metavar="NAME|ID", help="a name, or an ID (ServiceId-…)")],
    force: ForceOption = False,
    output: OutputOption = Output.text,
) -> None:
    """Delete a service ID (and its API keys). `--output json` prints what was deleted."""
    with connected() as (me, client):
        found = find_service_id(client, me, ref)
        confirm_delete("service ID", found, force)
        client.delete(f"{SERVICE_IDS}{quote(str(found['id']), safe='')}")
    if output is Output.json:
        print_json(found)
        return
    out.print(f"[green]OK[/green] service ID {escape(str(found['id']))} deleted")


# -- API keys -----------------------------------------------------------------------------------

API_KEY_FIELDS = [
    ("Name", "name"),
    ("ID", "id"),
    ("Description", "description"),
    ("IAM ID", "iam_id"),
    ("Locked", "locked"),
    ("Disabled", "disabled"),
    ("Created At", "created_at"),
    ("CRN", "crn"),
]
API_KEY_COLUMNS = [
    ("Name", "name"),
    ("ID", "id"),
    ("Locked", "locked"),
    ("Created At", "created_at"),
    ("Description", "description"),
]


def my_api_keys(client: Client, me: session.Session) -> Iterator[dict[str, Any]]:
    return client.items(API_KEYS, "apikeys", {"account_id": me.account_id, "iam_id": me.iam_id})


@app.command("api-key-create")
@reports_failures
def api_key_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="the API key's name")],
    description: DescriptionOption = "",
    file: Annotated[
        Path | None, typer.Option("--file", help="also save the answer, key included, here (0600)")
    ] = None,
    output: OutputOption = Output.text,
) -> None:
    """Create an API key for the logged-in identity. The key is shown this once."""
    with connected() as (me, client):
        body = {"name": name, "description": description, "iam_id": me.iam_id}
        created = client.post(API_KEYS, {**body, "account_id": me.account_id})
    # Shown before the file is written: if writing fails, the key must not be lost with it.
    if output is Output.json:
        print_json(created)
    else:
        out.print(
            f"[green]OK[/green] API key [bold]{escape(str(created.get('id')))}[/bold] created"
        )
        out.print("Keep the API key now: it cannot be shown again.", style="yellow")
        show_fields(created, [*API_KEY_FIELDS, ("API Key", "apikey")])
    if file is not None:
        try:
            session.write_private(file, json.dumps(created, indent=2) + "\n")
        except OSError as exc:
            raise CliError(f"the API key was created, but {file} cannot be written: {exc}") from exc
        if output is Output.text:
            out.print(f"Saved to {file}", markup=False)


@app.command("api-keys")
@reports_failures
def api_keys(output: OutputOption = Output.text) -> None:
    """List the logged-in identity's API keys."""
    with connected() as (me, client):
        items = list(my_api_keys(client, me))
    if output is Output.json:
        print_json(items)
        return
    show_table(items, API_KEY_COLUMNS, "No API keys.")


@app.command("api-key-delete")
@reports_failures
def api_key_delete(
    ref: Annotated[str, typer.Argument(metavar="NAME|ID", help="a name, or an ID (ApiKey-…)")],
    force: ForceOption = False,
    output: OutputOption = Output.text,
) -> None:
    """Delete one of the logged-in identity's API keys. `--output json` prints what was deleted."""
    with connected() as (me, client):
        found = resolve(
            ref, kind="API key", id_prefix="ApiKey-",
            get=lambda ident: client.get(f"{API_KEYS}/{ident}"),
            candidates=lambda: my_api_keys(client, me),
        )  # fmt: skip
        confirm_delete("API key", found, force)
        client.delete(f"{API_KEYS}/{quote(str(found['id']), safe='')}")
    if output is Output.json:
        print_json(found)
        return
    out.print(f"[green]OK[/green] API key {escape(str(found['id']))} deleted")
