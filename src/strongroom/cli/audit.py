"""`strongroom audit events|verify|export|hash`: the account's audit trail (reliability.md A3;
docs/user-guide.md, "Audit trail") through `/v1/audit/...`, HTTP only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from strongroom.cli.client import CliError
from strongroom.cli.iam import Output, connected, out, print_json, reports_failures, show_table

app = typer.Typer(
    no_args_is_help=True, help="Read, verify, export and search the account's audit trail."
)

EVENTS = "/v1/audit/events"
AccountOption = Annotated[
    str | None,
    typer.Option("--account-id", help="the account (default: the one you are logged in to)"),
]
ActionOption = Annotated[
    str | None, typer.Option("--action", help="only this action, e.g. kms.secrets.wrap")
]
OutcomeOption = Annotated[str | None, typer.Option("--outcome", help="only `success` or `failure`")]
StartOption = Annotated[
    str | None, typer.Option("--start", help="from this time on (ISO 8601, UTC if no offset)")
]
EndOption = Annotated[str | None, typer.Option("--end", help="before this time (ISO 8601)")]
COLUMNS = [
    ("Seq", "seq"),
    ("Time", "time"),
    ("Action", "action"),
    ("Outcome", "outcome"),
    ("Code", "code"),
    ("Severity", "severity"),
    ("Initiator", "initiator"),
    ("Target", "target"),
]


def _params(
    account_id: str | None,
    action: str | None,
    outcome: str | None,
    start: str | None,
    end: str | None,
) -> dict[str, str | int]:
    given = {
        "account_id": account_id,
        "action": action,
        "outcome": outcome,
        "start": start,
        "end": end,
    }
    return {k: v for k, v in given.items() if v is not None}


def _row(item: dict[str, Any]) -> dict[str, Any]:
    event = item["event"]
    return {
        "seq": item["seq"],
        "time": event.get("eventTime"),
        "action": event.get("action"),
        "outcome": event.get("outcome"),
        "code": (event.get("reason") or {}).get("reasonCode"),
        "severity": event.get("severity"),
        "initiator": (event.get("initiator") or {}).get("id"),
        "target": (event.get("target") or {}).get("id"),
    }


@app.command("events")
@reports_failures
def events(
    account_id: AccountOption = None,
    action: ActionOption = None,
    outcome: OutcomeOption = None,
    start: StartOption = None,
    end: EndOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many")] = 100,
    output: Annotated[
        Output, typer.Option("--output", case_sensitive=False, help="`json`: the events")
    ] = Output.text,
) -> None:
    """List the account's audit events, oldest first."""
    params = _params(account_id, action, outcome, start, end)
    found: list[dict[str, Any]] = []
    with connected() as (_, client):
        while len(found) < limit:
            page = client.get(EVENTS, {**params, "limit": min(100, limit - len(found))})
            found.extend(page.get("events") or [])
            token = (page.get("next") or {}).get("start_token")
            if not token:
                break
            params["start_token"] = token
    if output is Output.json:
        print_json(found)
        return
    show_table([_row(item) for item in found], COLUMNS, "No audit events found.")


@app.command("verify")
@reports_failures
def verify(
    account_id: AccountOption = None,
    output: Annotated[
        Output, typer.Option("--output", case_sensitive=False, help="`json`: the result")
    ] = Output.text,
) -> None:
    """Check the account's hash chain: every event in place and unaltered."""
    params = {"account_id": account_id} if account_id else None
    with connected() as (_, client):
        result = client.get("/v1/audit/verify", params)
    if output is Output.json:
        print_json(result)
    if not result.get("ok"):
        raise CliError(f"the audit trail is broken: {result.get('problem')}")
    if output is Output.text:
        out.print(f"OK: {result.get('events')} events, chain intact", markup=False)


@app.command("export")
@reports_failures
def export(
    account_id: AccountOption = None,
    action: ActionOption = None,
    outcome: OutcomeOption = None,
    start: StartOption = None,
    end: EndOption = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="write here instead of standard output")
    ] = None,
) -> None:
    """Export the account's events as JSON lines, with their chain links."""
    params = _params(account_id, action, outcome, start, end)
    with connected() as (_, client):
        lines = client.lines(f"{EVENTS}/export", params)
        if file is None:
            for line in lines:
                typer.echo(line)
            return
        with file.open("w", encoding="utf-8") as sink:
            for line in lines:
                sink.write(line + "\n")


@app.command("hash")
@reports_failures
def hash_value(
    value: Annotated[str, typer.Argument(help="the value to search the trail for")],
    output: Annotated[
        Output, typer.Option("--output", case_sensitive=False, help="`json`: {hash}")
    ] = Output.text,
) -> None:
    """Print `hmac-sha256:<hex>` of a value as the trail stores it (an API key, a token), to
    search events for it; the value itself is never stored."""
    with connected() as (_, client):
        result = client.post("/v1/audit/hash", {"input": value})
    if output is Output.json:
        print_json(result)
        return
    out.print(str(result.get("hash")), markup=False, soft_wrap=True)
