"""`strongroom kp …`, after `ibmcloud kp`: Key Protect keys, key rings and instance policies
through the key management API at `/api/v2` (spec kms-api.md §3).

Every command names its instance with -i/--instance-id or KP_INSTANCE_ID, sent as
`Bluemix-Instance` (spec §1.2), and is a few HTTP calls through `Client`. A refusal prints Key
Protect's `errorMsg` and each reason as `CODE: message` (client.error_message), exit status 1.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape

from strongroom.cli import session
from strongroom.cli.client import Client, CliError
from strongroom.cli.iam import (
    Output,
    connected,
    out,
    print_json,
    reports_failures,
    show_fields,
    show_table,
)
from strongroom.cli.kp_views import (
    KEY_COLUMNS,
    POLICY_COLUMNS,
    RING_COLUMNS,
    key_view,
    policy_row,
    show_answer,
    show_key,
)

API = "/api/v2"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
KEYS_PAGE = 200  # GET /keys' default page (spec §3.2; at most 5000)
RINGS_PAGE = 100  # GET /key_rings' default page (spec §3.9)

app = typer.Typer(
    no_args_is_help=True, help="Manage Key Protect keys, key rings and instance policies."
)
key_app = typer.Typer(no_args_is_help=True, help="Create, show, use, rotate and delete a key.")
instance_app = typer.Typer(no_args_is_help=True, help="Show the instance's policies.")
app.add_typer(key_app, name="key")
app.add_typer(instance_app, name="instance")

InstanceOption = Annotated[
    str | None,
    typer.Option(
        "-i",
        "--instance-id",
        help=f"the Key Protect instance's GUID (default: ${session.ENV_KP_INSTANCE})",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Output,
    typer.Option("-o", "--output", case_sensitive=False, help="`json` prints the API's answer."),
]
KeyArgument = Annotated[
    str, typer.Argument(metavar="KEY_ID|ALIAS", help="the key's ID or one of its aliases")
]
RingOption = Annotated[
    str | None,
    typer.Option("-r", "--key-ring", help="the key ring to put it in (default: `default`)"),
]
RingFilter = Annotated[
    str | None, typer.Option("-r", "--key-ring", help="only this key ring's keys")
]
AadOption = Annotated[
    str | None,
    typer.Option(
        "-a", "--aad", help="additional authenticated data, comma-separated; resend it to unwrap"
    ),
]
MaterialOption = Annotated[
    str | None,
    typer.Option("-k", "--key-material", help="base64 key material to import"),
]

# -- the wire -------------------------------------------------------------------------------------


def headers(instance: str, ring: str | None = None, prefer: str | None = None) -> dict[str, str]:
    found = {"Bluemix-Instance": instance}
    if ring:
        found["X-Kms-Key-Ring"] = ring
    if prefer:
        found["Prefer"] = prefer
    return found


def key_path(ref: str, *rest: str) -> str:
    return "/".join([f"{API}/keys/{quote(ref, safe='')}", *rest])


def first_key(body: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """`resources[0]` of a key envelope (spec §1.3)."""
    resources = (body or {}).get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
        raise CliError(f"the server's answer to {what} holds no key")
    return resources[0]


def every_page(client: Client, path: str, sent: dict[str, str], page: int) -> list[dict[str, Any]]:
    """Every item of a `limit`/`offset` list: pages until one comes back short."""
    found: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"limit": page, "offset": len(found)}
        body = client.call("GET", path, params=params, headers=sent) or {}
        items = body.get("resources") or []
        if not isinstance(items, list):
            raise CliError(f"the server's answer to GET {path} has no `resources` list")
        found.extend(items)
        if len(items) < page:
            return found


def aad_list(value: str | None) -> list[str] | None:
    """`a,b` as `ibmcloud kp` reads it: the strings between the commas, kept exactly."""
    return None if value is None else value.split(",")


# -- commands -------------------------------------------------------------------------------------


@key_app.command("create")
@reports_failures
def key_create(
    name: Annotated[str, typer.Argument(metavar="KEY_NAME", help="the new key's name")],
    standard_key: Annotated[
        bool, typer.Option("-s", "--standard-key", help="a standard key, not a root key")
    ] = False,
    key_material: MaterialOption = None,
    description: Annotated[
        str | None, typer.Option("-D", "--description", help="a description")
    ] = None,
    aliases: Annotated[
        str | None, typer.Option("-a", "--aliases", help="up to 5 aliases, comma-separated")
    ] = None,
    key_ring: RingOption = None,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Create a root key (or, with --standard-key, a standard key); --key-material imports it."""
    instance = session.kp_instance(instance_id)
    resource: dict[str, Any] = {"type": KEY_TYPE, "name": name, "extractable": standard_key}
    if description is not None:
        resource["description"] = description
    if key_material is not None:
        resource["payload"] = key_material
    if aliases is not None:
        resource["aliases"] = aliases.split(",")
    body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1}, "resources": [resource]}
    sent = headers(instance, key_ring, prefer="return=representation")
    with connected() as (_, client):
        made = first_key(client.post(f"{API}/keys", body, headers=sent), "POST /api/v2/keys")
    if output is Output.json:
        print_json(made)
        return
    out.print(f"[green]OK[/green] key [bold]{escape(name)}[/bold] created")
    show_key(made)


@app.command("keys")
@reports_failures
def keys(
    key_ring: RingFilter = None,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """List the instance's keys (those not deleted), or one key ring's."""
    instance = session.kp_instance(instance_id)
    with connected() as (_, client):
        found = every_page(client, f"{API}/keys", headers(instance, key_ring), KEYS_PAGE)
    if output is Output.json:
        print_json(found)
        return
    show_table([key_view(k) for k in found], KEY_COLUMNS, "No keys found.")


@key_app.command("show")
@reports_failures
def key_show(
    ref: KeyArgument, instance_id: InstanceOption = None, output: OutputOption = Output.text
) -> None:
    """Show a key's metadata (never its material)."""
    instance = session.kp_instance(instance_id)
    path = key_path(ref, "metadata")
    with connected() as (_, client):
        found = first_key(client.call("GET", path, headers=headers(instance)), f"GET {path}")
    if output is Output.json:
        print_json(found)
        return
    show_key(found)


@key_app.command("delete")
@reports_failures
def key_delete(
    ref: KeyArgument,
    force: Annotated[
        bool,
        typer.Option("-f", "--force", help="delete it even while it protects registered resources"),
    ] = False,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Delete a key; it can be restored for 30 days (spec §3.3)."""
    instance = session.kp_instance(instance_id)
    path = key_path(ref)
    sent = headers(instance, prefer="return=representation")
    with connected() as (_, client):
        answer = client.call(
            "DELETE", path, params={"force": "true"} if force else None, headers=sent
        )
    deleted = first_key(answer, f"DELETE {path}")
    if output is Output.json:
        print_json(deleted)
        return
    out.print(f"[green]OK[/green] key {escape(str(deleted.get('id')))} deleted")


@key_app.command("wrap")
@reports_failures
def key_wrap(
    ref: KeyArgument,
    plaintext: Annotated[
        str | None,
        typer.Option("-p", "--plaintext", help="base64 data key to wrap (default: a new one)"),
    ] = None,
    aad: AadOption = None,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Wrap a data key with a root key; without --plaintext the server makes one and shows it."""
    instance = session.kp_instance(instance_id)
    body: dict[str, Any] = {}
    if plaintext is not None:
        body["plaintext"] = plaintext
    if aad is not None:
        body["aad"] = aad_list(aad)
    with connected() as (_, client):
        answer = client.post(key_path(ref, "actions", "wrap"), body, headers=headers(instance))
    if output is Output.json:
        print_json(answer)
        return
    fields = [
        ("Ciphertext", "ciphertext"),
        ("Plaintext", "plaintext"),
        ("Key Version", "keyVersion"),
    ]
    show_answer(answer, fields)


@key_app.command("unwrap")
@reports_failures
def key_unwrap(
    ref: KeyArgument,
    ciphertext: Annotated[
        str, typer.Argument(metavar="CIPHERTEXT", help="the ciphertext `key wrap` printed")
    ],
    aad: AadOption = None,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Unwrap a data key. A ciphertext of an older key version also comes back rewrapped with
    the newest one (spec §3.4): store that instead."""
    instance = session.kp_instance(instance_id)
    body: dict[str, Any] = {"ciphertext": ciphertext}
    if aad is not None:
        body["aad"] = aad_list(aad)
    with connected() as (_, client):
        answer = client.post(key_path(ref, "actions", "unwrap"), body, headers=headers(instance))
    if output is Output.json:
        print_json(answer)
        return
    fields = [
        ("Plaintext", "plaintext"),
        ("Key Version", "keyVersion"),
        ("Rewrapped Ciphertext", "ciphertext"),
        ("Rewrapped Key Version", "rewrappedKeyVersion"),
    ]
    show_answer(answer, fields)


@key_app.command("rotate")
@reports_failures
def key_rotate(
    ref: KeyArgument,
    key_material: MaterialOption = None,
    instance_id: InstanceOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Rotate a root key: a new version wraps from now on; older ciphertexts still unwrap. An
    imported key needs its new --key-material."""
    instance = session.kp_instance(instance_id)
    body = {"payload": key_material} if key_material is not None else None
    meta = key_path(ref, "metadata")
    with connected() as (_, client):
        client.call(
            "POST", key_path(ref, "actions", "rotate"), body=body, headers=headers(instance)
        )
        try:
            rotated = first_key(client.call("GET", meta, headers=headers(instance)), f"GET {meta}")
        except CliError as exc:  # the rotation stands: say so rather than a bare failure
            message = f"key `{ref}` was rotated, but reading it back failed: {exc.message}"
            raise CliError(message, exc.status) from exc
    if output is Output.json:
        print_json(rotated)
        return
    out.print(f"[green]OK[/green] key {escape(str(rotated.get('id')))} rotated")
    show_fields(
        key_view(rotated), [("Key Version", "version_id"), ("Last Rotate Date", "lastRotateDate")]
    )


@app.command("key-rings")
@reports_failures
def key_rings(instance_id: InstanceOption = None, output: OutputOption = Output.text) -> None:
    """List the instance's key rings (`default` always among them)."""
    instance = session.kp_instance(instance_id)
    with connected() as (_, client):
        found = every_page(client, f"{API}/key_rings", headers(instance), RINGS_PAGE)
    if output is Output.json:
        print_json(found)
        return
    show_table(found, RING_COLUMNS, "No key rings found.")


@instance_app.command("policies")
@reports_failures
def instance_policies(
    instance_id: InstanceOption = None, output: OutputOption = Output.text
) -> None:
    """List the instance's policies (the types that have been set, spec §3.6)."""
    instance = session.kp_instance(instance_id)
    path = f"{API}/instance/policies"
    with connected() as (_, client):
        body = client.call("GET", path, headers=headers(instance)) or {}
    found = body.get("resources") or []
    if output is Output.json:
        print_json(found)
        return
    show_table([policy_row(p) for p in found], POLICY_COLUMNS, "No instance policies set.")
