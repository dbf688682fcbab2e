"""reliability.md T6: secrets planted through the real flows never appear in clear at rest, in
the logs or in error bodies.

Canaries: the bootstrap API key, user and service-ID API keys (one stored with
`store_value`), access and refresh tokens, the token signing private key, the root key and the
keys derived from it, an imported root key's payload, a standard key's payload and a wrapped
DEK. Each is looked for raw and as text, base64, base64url and hex in: the SQLite database file
with its -wal and -shm (or, on PostgreSQL, every row of every table read back as text), every
log record written while the flows ran, and every error body the server answered.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from strongroom.rootkey import RootKey
from strongroom.store.sql.engine import normalise_url
from strongroom.testing.server import LiveServer
from tests.conftest import SERVER_BACKENDS, start_server

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
BX = ("bx", "bx")
# Every subkey the server derives from the root key (bootstrap.py, kms/crypto/software.py):
# each is as secret as the root key itself.
ROOT_PURPOSES = (
    "seal:apikey",
    "pepper:apikey",
    "seal:signing-key",
    "pepper:refresh-token",
    "seal:kms master key",
)


def spellings(secret: bytes | str) -> set[bytes]:
    """The ways a secret could sit in a file or a body: itself, base64, base64url, hex."""
    raw = secret.encode() if isinstance(secret, str) else secret
    found = {
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        raw.hex().encode(),
        raw.hex().upper().encode(),
    }
    return {s for s in found if len(s) >= 16}


class Canaries:
    def __init__(self) -> None:
        self.planted: dict[str, set[bytes]] = {}
        # Not secret, stored in clear on purpose: the scan must find it, or it proves nothing.
        self.control = f"control-{uuid.uuid4().hex}"

    def plant(self, name: str, secret: bytes | str) -> None:
        assert secret, name
        self.planted[name] = spellings(secret)

    def hits(self, where: str, data: bytes) -> list[str]:
        return [
            f"{name} in {where}"
            for name, forms in self.planted.items()
            if any(form in data for form in forms)
        ]


class Recorder(logging.Handler):
    """Every log record of the server while the flows run, as it would be written."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore", "hypothesis")):
            return  # the test's own client, not the server
        self.lines.append(self.format(record))


@pytest.fixture(params=SERVER_BACKENDS)
def planted(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[LiveServer, Canaries, list[str], Recorder]]:
    recorder = Recorder()
    root = logging.getLogger()
    watched = [logging.getLogger(n) for n in ("strongroom", "uvicorn", "uvicorn.error")]
    levels = [(lg, lg.level) for lg in [root, *watched]]
    root.addHandler(recorder)
    for lg, _ in levels:
        lg.setLevel(logging.DEBUG)
    try:
        with ExitStack() as stack:
            server = start_server(request.param, str(tmp_path), stack)
            canaries, errors = Canaries(), []
            run_flows(server, canaries, errors)
            yield server, canaries, errors, recorder
    finally:
        root.removeHandler(recorder)
        for lg, level in levels:
            lg.setLevel(level)


def run_flows(server: LiveServer, canaries: Canaries, errors: list[str]) -> None:
    def keep_errors(response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            errors.append(f"{response.request.method} {response.request.url.path}: {response.text}")

    http = httpx.Client(base_url=server.url, timeout=30, event_hooks={"response": [keep_errors]})
    with http:
        _flows(server, http, canaries)


def _flows(server: LiveServer, http: httpx.Client, canaries: Canaries) -> None:
    canaries.plant("bootstrap API key", server.apikey)
    login = http.post(
        "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": server.apikey}, auth=BX
    ).json()
    owner = {"Authorization": f"Bearer {login['access_token']}"}
    account = server.account_id

    # API keys of a service ID (one stored retrievably) and of an invited user.
    sid = http.post(
        "/v1/serviceids/", json={"name": canaries.control, "account_id": account}, headers=owner
    ).json()
    sid_key = http.post(
        "/v1/apikeys", json={"name": "sid", "iam_id": sid["iam_id"]}, headers=owner
    ).json()["apikey"]
    stored = http.post(
        "/v1/apikeys",
        json={"name": "stored", "iam_id": sid["iam_id"], "store_value": True},
        headers=owner,
    ).json()["apikey"]
    user = http.post(
        f"/v2/accounts/{account}/users",
        json={"users": [{"email": f"c.{uuid.uuid4().hex[:6]}@example.com"}]},
        headers=owner,
    ).json()["resources"][0]["id"]
    chosen = "canary-" + secrets.token_urlsafe(32)  # a caller-chosen value (IBM's `apikey`)
    user_key = http.post(
        "/v1/apikeys",
        json={"name": "user", "iam_id": user, "account_id": account, "apikey": chosen},
        headers=owner,
    ).json()["apikey"]
    assert user_key == chosen
    for name, value in (("service-ID API key", sid_key), ("stored API key", stored),
                        ("user API key", user_key)):  # fmt: skip
        canaries.plant(name, value)

    # Tokens: an access token, a refresh token, a rotated one, and the spent one replayed.
    sid_login = http.post(
        "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": sid_key}, auth=BX
    ).json()
    canaries.plant("owner access token", login["access_token"])
    canaries.plant("owner access token signature", login["access_token"].rsplit(".", 1)[1])
    canaries.plant("service-ID access token", sid_login["access_token"])
    canaries.plant("owner refresh token", login["refresh_token"])
    rotated = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": sid_login["refresh_token"]},
        auth=BX,
    ).json()
    canaries.plant("spent refresh token", sid_login["refresh_token"])
    canaries.plant("rotated refresh token", rotated["refresh_token"])
    canaries.plant("rotated access token", rotated["access_token"])

    # The signing key and the root key, read from where the server holds them.
    private = server.container.tokens._signing[1]
    canaries.plant(
        "signing key (PKCS#8 DER)",
        private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    canaries.plant(
        "signing key (PEM body)",
        b"".join(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).splitlines()[1:-1]
        ),
    )
    numbers = private.private_numbers()
    for part in ("d", "p", "q"):
        value = getattr(numbers, part)
        canaries.plant(f"signing key ({part})", value.to_bytes((value.bit_length() + 7) // 8))
    root_file = server.settings.resolved_root_key_file()
    material = base64.b64decode(root_file.read_text().strip(), validate=True)
    canaries.plant("root key", material)
    root_key = RootKey(material)
    for purpose in ROOT_PURPOSES:
        canaries.plant(f"root key derived for {purpose}", root_key.derive(purpose))

    # Key Protect: an instance, an imported root key, a standard key, a wrapped DEK.
    group = http.post("/v2/resource_groups", json={"name": "canary"}, headers=owner).json()["id"]
    instance = http.post(
        "/v2/resource_instances",
        json={
            "name": "canary-kp",
            "target": "us-south",
            "resource_group": group,
            "resource_plan_id": KMS_PLAN,
        },
        headers=owner,
    )
    assert instance.status_code == 201, instance.text
    kp = {**owner, "Bluemix-Instance": instance.json()["guid"], "Content-Type": KEY_TYPE}
    root_payload, standard_payload, dek = (secrets.token_bytes(32) for _ in range(3))
    canaries.plant("imported root key payload", root_payload)
    canaries.plant("standard key payload", standard_payload)
    canaries.plant("DEK", dek)

    def create(name: str, payload: bytes, extractable: bool) -> httpx.Response:
        resource = {
            "type": KEY_TYPE,
            "name": name,
            "payload": base64.b64encode(payload).decode(),
            "extractable": extractable,
        }
        body = {"metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [resource]}  # fmt: skip
        return http.post("/api/v2/keys", content=json.dumps(body), headers=kp)

    made = create("canary-root", root_payload, False)
    assert made.status_code == 201, made.text
    key_id = made.json()["resources"][0]["id"]
    assert create("canary-standard", standard_payload, True).status_code == 201
    wrapped = http.post(
        f"/api/v2/keys/{key_id}/actions/wrap",
        content=json.dumps({"plaintext": base64.b64encode(dek).decode()}),
        headers=kp,
    )
    assert wrapped.status_code == 200, wrapped.text
    unwrapped = http.post(
        f"/api/v2/keys/{key_id}/actions/unwrap",
        content=json.dumps({"ciphertext": wrapped.json()["ciphertext"]}),
        headers=kp,
    )
    assert base64.b64decode(unwrapped.json()["plaintext"]) == dek

    # Failures that carry a planted secret in the request: their answers must not echo it.
    failures = [
        http.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": user_key + "x"}),
        http.post(
            "/identity/token",
            data={"grant_type": APIKEY_GRANT, "apikey": sid_key},
            auth=("bx", sid_key),
        ),
        http.post(
            "/identity/token",
            data={"grant_type": "refresh_token", "refresh_token": sid_login["refresh_token"]},
            auth=BX,
        ),  # the replay: refused, and the family revoked
        http.post(
            "/identity/token",
            data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
            auth=BX,
        ),
        http.post("/identity/token", data={"grant_type": "bogus", "apikey": server.apikey}),
        http.get("/v1/serviceids/", headers={"Authorization": f"Bearer {login['access_token']}x"}),
        http.get("/v1/serviceids/", headers={"Authorization": f"Basic {server.apikey}"}),
        http.post(
            "/v1/apikeys", json={"name": 5, "iam_id": user, "apikey": chosen + "-2"}, headers=owner
        ),
        http.post(
            "/v1/apikeys",
            json={"name": "again", "iam_id": user, "account_id": account, "apikey": chosen},
            headers=owner,
        ),
        http.post(
            "/v1/apikeys",
            json={
                "name": "stored",
                "iam_id": user,
                "account_id": account,
                "apikey": chosen + "-3",
                "store_value": True,
            },
            headers=owner,
        ),
        create("too-long", root_payload + b"\x00", False),
        http.post(
            f"/api/v2/keys/{key_id}/actions/wrap",
            content=json.dumps({"plaintext": dek.hex() + "!"}),
            headers=kp,
        ),
        http.post(
            f"/api/v2/keys/{key_id}/actions/wrap",
            content=json.dumps({"plaintext": base64.b64encode(dek).decode(), "aad": 5}),
            headers=kp,
        ),
        http.post(
            f"/api/v2/keys/{key_id}/actions/unwrap",
            content=json.dumps({"ciphertext": base64.b64encode(dek).decode()}),
            headers=kp,
        ),
        http.post(
            "/v2/authz",
            json=[
                {
                    "subject": {"accessTokenBody": sid_login["access_token"] + "x"},
                    "action": "iam-identity.serviceid.list",
                    "resource": {"attributes": {"accountId": account}},
                }
            ],
            headers=owner,
        ),
    ]
    assert all(f.status_code >= 400 for f in failures[:-1]), [f.text for f in failures]


def database_texts(server: LiveServer) -> dict[str, bytes]:
    """What the database holds: its files for SQLite, every row as text for PostgreSQL."""
    url = server.settings.resolved_database_url()
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]
        found = {str(f): f.read_bytes() for f in files if f.exists()}
        assert str(path) in found
        return found
    engine = sa.create_engine(normalise_url(url))
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        rows: dict[str, bytes] = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                parts = []
                for row in conn.execute(sa.select(table)):
                    for value in row:
                        parts.append(
                            bytes(value)
                            if isinstance(value, bytes | memoryview)
                            else str(value).encode()
                        )
                rows[f"table {table.name}"] = b"\n".join(parts)
        assert rows
        return rows
    finally:
        engine.dispose()


def test_no_planted_secret_is_found_in_clear(
    planted: tuple[LiveServer, Canaries, list[str], Recorder],
) -> None:
    server, canaries, errors, recorder = planted
    # A scan that cannot find anything proves nothing: the controls are found where they are.
    assert canaries.hits("a login", server.apikey.encode()) == ["bootstrap API key in a login"]
    for spelled in (
        server.apikey.encode().hex(),
        base64.b64encode(server.apikey.encode()).decode(),
    ):
        assert canaries.hits("x", f"…{spelled}…".encode()) == ["bootstrap API key in x"]
    assert len(errors) >= 14 and all(
        "errorCode" in e or "errors" in e or "reasons" in e for e in errors
    )
    assert recorder.lines  # the handler saw the server's records (its migrations, at least)
    stored = database_texts(server)
    assert any(canaries.control.encode() in data for data in stored.values())
    hits: list[str] = []
    for where, data in stored.items():
        hits += canaries.hits(where, data)
    hits += canaries.hits("the log", "\n".join(recorder.lines).encode())
    for body in errors:
        hits += canaries.hits(f"the error body {body[:80]!r}", body.encode())
    assert hits == []
    print(f"T6: {len(canaries.planted)} canaries, {len(stored)} stores, secret_canary_hits=0")
