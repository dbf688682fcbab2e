"""Token exchange (API key -> RS256 access token) and token verification, each beside its bound:
raw RSA-2048 PKCS#1 v1.5 SHA-256 signing and verifying with `cryptography`.

In process, on a runtime built by `strongroom.bootstrap.build` on SQLite; then over HTTP against
`strongroom serve` in a subprocess, on SQLite and (when a PostgreSQL URL is given) PostgreSQL.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import httpx
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import SecretStr

from benchmarks import load
from benchmarks.report import Figure, parallel_rates, rates
from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.testing.postgres import scratch_database
from strongroom.tokens.claims import APIKEY_GRANT

RSA = "RSA-2048 PKCS#1 v1.5 SHA-256 (cryptography)"
IN_PROCESS = "in-process, SQLite"
PG_ENV = ("STRONGROOM_BENCH_PG_URL", "STRONGROOM_TEST_PG_URL")
FORM = "application/x-www-form-urlencoded"
LOAD = load.Load(processes=4, requests=250, warmup=20, time_limit=30.0)

Progress = Callable[[str], None]


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%"


def _versus(http: Figure, inproc: Figure) -> str:
    cpu = statistics.median(http.server_cpu_us) / inproc.us()
    what = inproc.name.rpartition(".")[2]
    return f"{_pct(http.median, inproc.median)} of in-process {what} rate; {cpu:.1f}x its CPU"


def _signer(der: bytes, message: bytes) -> Callable[[], object]:
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return partial(key.sign, message, padding.PKCS1v15(), hashes.SHA256())


@contextmanager
def _tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        yield Path(tmp)


def _pg_url() -> str | None:
    return next((os.environ[name] for name in PG_ENV if os.environ.get(name)), None)


def run(reps: int, progress: Progress) -> list[Figure]:
    with _tmp_dir() as tmp:
        apikey = load.new_apikey()
        settings = Settings(data_dir=tmp, database_url=None, bootstrap_apikey=SecretStr(apikey))
        runtime = bootstrap.build(settings)
        try:
            figures = _in_process(runtime, apikey, reps, progress)
        finally:
            runtime.close()
    inproc = {f.name: f for f in figures}
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    if pg := _pg_url():
        backends.append(("PostgreSQL", pg))
    else:
        progress(f"PostgreSQL leg skipped: set {PG_ENV[0]} (or {PG_ENV[1]})")
    for i, (backend, admin_url) in enumerate(backends):
        figures += _over_http(backend, admin_url, reps, progress, inproc, floor=i == 0)
    return figures


def _in_process(
    runtime: bootstrap.Runtime, apikey: str, reps: int, progress: Progress
) -> list[Figure]:
    tokens, identity = runtime.container.tokens, runtime.container.identity
    minted = tokens.exchange_apikey(apikey, client_id=None, scope=None)
    token = minted.access_token
    kid = jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(next(k for k in tokens.jwks()["keys"] if k["kid"] == kid), "RS256").key
    signing_input, _, _ = token.rpartition(".")
    message = signing_input.encode()  # what signing a token really signs: header.payload

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sign = _signer(der, message)
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def rsa_verify() -> None:
        private.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

    def pyjwt_decode() -> None:
        jwt.decode(token, public, algorithms=["RS256"], options={"verify_aud": False})

    def encode() -> None:
        jwt.encode(minted.claims, private, algorithm="RS256", headers={"kid": kid})

    progress(f"{RSA}: sign (1 and 2 processes), verify")
    rsa_sign = Figure(RSA, "sign, 1 process", rates(sign, reps))
    two = parallel_rates(partial(_signer, der, message), 2, reps)
    rsa_sign2 = Figure(RSA, "sign, 2 processes", two, per_op=False)
    rsa_sign2.note = f"{rsa_sign2.median / rsa_sign.median:.2f}x 1 process"
    rsa_verify_fig = Figure(RSA, "verify, 1 process", rates(rsa_verify, reps))

    progress(f"{IN_PROCESS}: exchange and its parts, verify, PyJWT decode")
    exchange = Figure(
        IN_PROCESS,
        "TokenService.exchange_apikey",
        rates(lambda: tokens.exchange_apikey(apikey, client_id=None, scope=None), reps),
    )
    lookup = Figure(
        IN_PROCESS,
        "- API key lookup (HMAC + SQL)",
        rates(lambda: identity.authenticate(apikey), reps),
    )
    jwt_encode = Figure(IN_PROCESS, "- jwt.encode RS256 (PyJWT)", rates(encode, reps))
    ours = Figure(
        IN_PROCESS, "TokenService.verify_signed", rates(lambda: tokens.verify_signed(token), reps)
    )
    seen = Figure(
        IN_PROCESS,
        "TokenService.verify, token seen before",
        rates(lambda: tokens.verify(token), reps),
    )
    seen.note = f"{seen.median / ours.median:.0f}x verify_signed (no signature check)"
    peer = Figure(IN_PROCESS, "jwt.decode RS256 (PyJWT, reference)", rates(pyjwt_decode, reps))

    exchange.note = f"{_pct(exchange.median, rsa_sign.median)} of RSA sign, 1 process"
    lookup.note = f"{lookup.us() / exchange.us():.0%} of an exchange's time"
    jwt_encode.note = f"{_pct(jwt_encode.median, rsa_sign.median)} of RSA sign"
    ours.note = (
        f"+{ours.us() - peer.us():.0f} µs over PyJWT ({_pct(ours.median, peer.median)} of its rate)"
    )
    peer.note = f"{_pct(peer.median, rsa_verify_fig.median)} of RSA verify"
    return [rsa_sign, rsa_sign2, rsa_verify_fig, exchange, lookup, jwt_encode, ours, seen, peer]


def _over_http(
    backend: str,
    admin_url: str | None,
    reps: int,
    progress: Progress,
    inproc: dict[str, Figure],
    *,
    floor: bool,
) -> list[Figure]:
    """The token and an authenticated read over HTTP; with `floor`, also GET /healthz (no auth,
    no database: what uvicorn + FastAPI cost alone)."""
    section = f"HTTP, {backend}, {LOAD.processes} clients"
    apikey = load.new_apikey()
    with ExitStack() as stack:
        tmp = stack.enter_context(_tmp_dir())
        database_url = stack.enter_context(scratch_database(admin_url)) if admin_url else None
        server = stack.enter_context(load.serve(tmp, apikey, database_url))
        form = {"grant_type": APIKEY_GRANT, "apikey": apikey, "response_type": "cloud_iam"}
        token = load.Call(
            "POST",
            "/identity/token",
            {"Content-Type": FORM},
            urlencode(form).encode(),
            expect_key="access_token",
        )
        first = httpx.post(
            f"{server.url}{token.path}", headers=token.headers, content=token.content
        )
        first.raise_for_status()
        bearer = {"IAM-ApiKey": apikey, "Authorization": f"Bearer {first.json()['access_token']}"}
        details = load.Call("GET", "/v1/apikeys/details", bearer, expect_key="id")
        calls: list[tuple[load.Call, str | None]] = [
            (token, "TokenService.exchange_apikey"),
            (details, "TokenService.verify_signed"),
        ]
        if floor:
            calls.append((load.Call("GET", "/healthz", expect_key="status"), None))
        figures = []
        for call, reference in calls:
            progress(f"{section}: {call.method} {call.path}")
            rounds = load.run(server, call, replace(LOAD, rounds=reps))
            fig = Figure.from_rounds(section, f"{call.method} {call.path}", rounds)
            fig.note = _versus(fig, inproc[reference]) if reference else "no auth, no database"
            figures.append(fig)
    return figures
