"""Who the CLI is: the stored login session, and the environment that can stand in for it.

The one module that reads the environment. The session file keeps tokens, never the API key,
and is written 0600 by an atomic replace, so a crash never leaves half a session behind.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import typer

from strongroom.cli.client import Client, CliError

if sys.platform != "win32":
    import fcntl

ENV_ENDPOINT = "STRONGROOM_ENDPOINT"
ENV_APIKEY = "STRONGROOM_APIKEY"
ENV_CONFIG_DIR = "STRONGROOM_CONFIG_DIR"
ENV_KP_INSTANCE = "KP_INSTANCE_ID"  # `ibmcloud kp`'s own variable for the Key Protect instance
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
REFRESH_MARGIN = 60  # seconds: refresh a token this close to expiry so it cannot lapse mid-call
NOT_LOGGED_IN = "not logged in: run `strongroom login --apikey KEY` (or set STRONGROOM_APIKEY)"


@dataclass(frozen=True, slots=True)
class Session:
    endpoint: str
    access_token: str
    refresh_token: str | None  # None when the token came from STRONGROOM_APIKEY
    expiration: int  # epoch seconds
    account_id: str
    iam_id: str

    def expires_soon(self, now: float) -> bool:
        return self.expiration - now < REFRESH_MARGIN

    def client(self) -> Client:
        return Client(self.endpoint, token=self.access_token)


# -- the environment ----------------------------------------------------------------------------


def env_endpoint() -> str | None:
    return os.environ.get(ENV_ENDPOINT) or None


def env_apikey() -> str | None:
    return os.environ.get(ENV_APIKEY) or None


def kp_instance(flag: str | None) -> str:
    """The Key Protect instance (`Bluemix-Instance`) of a `kp` command: an explicit
    -i/--instance-id, else KP_INSTANCE_ID, as `ibmcloud kp` reads them."""
    found = flag or os.environ.get(ENV_KP_INSTANCE)
    if not found:
        raise CliError(f"name the Key Protect instance with -i/--instance-id or {ENV_KP_INSTANCE}")
    return found


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else Path(typer.get_app_dir("strongroom"))


def session_path() -> Path:
    return config_dir() / "session.json"


def login_endpoint(flag: str | None) -> str:
    """An explicit --endpoint, else STRONGROOM_ENDPOINT, else the local default."""
    return (flag or env_endpoint() or DEFAULT_ENDPOINT).rstrip("/")


# -- tokens -------------------------------------------------------------------------------------


def token_claims(token: str) -> dict[str, Any]:
    """The JWT payload, unverified: the server checks signatures; the CLI only reads who it is."""
    parts = token.split(".")
    if len(parts) != 3:
        raise CliError("the server returned an access token that is not a JWT")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise CliError("the server returned an access token whose payload cannot be read") from exc
    if not isinstance(claims, dict):
        raise CliError("the server returned an access token whose payload is not an object")
    return claims


def session_from(endpoint: str, body: dict[str, Any]) -> Session:
    """A Session from a token-endpoint answer."""
    access = body.get("access_token")
    if not isinstance(access, str):
        raise CliError("the server's token answer has no access_token")
    claims = token_claims(access)
    account = claims.get("account")
    account_id = account.get("bss") if isinstance(account, dict) else None
    iam_id = claims.get("iam_id")
    if not isinstance(account_id, str) or not isinstance(iam_id, str):
        raise CliError("the access token names no iam_id or account")
    refresh = body.get("refresh_token")
    expiration = body.get("expiration", claims.get("exp"))
    if not isinstance(expiration, int):
        raise CliError("the server's token answer has no expiration")
    return Session(
        endpoint=endpoint,
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh != "not_supported" else None,
        expiration=expiration,
        account_id=account_id,
        iam_id=iam_id,
    )


# -- the session file ---------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by the owner only. The temporary file is created 0600, so the
    content is never visible to others, not even for a moment, whatever mode `path` had."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(session: Session) -> Path:
    path = session_path()
    write_private(path, json.dumps(asdict(session), indent=2) + "\n")
    return path


def load() -> Session | None:
    path = session_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        stored = Session(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise CliError(
            f"the session file {path} cannot be read; run `strongroom login` again"
        ) from exc
    if not isinstance(stored.expiration, int) or not isinstance(stored.access_token, str):
        raise CliError(f"the session file {path} is damaged; run `strongroom login` again")
    return stored


def forget() -> bool:
    """Remove the session file; False when there was none."""
    try:
        session_path().unlink()
    except FileNotFoundError:
        return False
    return True


# -- logging in, and the session each command runs with ------------------------------------------


@contextmanager
def _refresh_lock() -> Iterator[None]:
    """Serialise refreshes across concurrent invocations: refresh tokens are single-use, and
    presenting a spent one revokes the whole family, which would log every invocation out."""
    if sys.platform == "win32":  # no flock there: a race costs a fresh login
        yield
        return
    path = config_dir() / "session.lock"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def login(apikey: str, endpoint: str) -> tuple[Session, Path]:
    with Client(endpoint) as client:
        session = session_from(endpoint, client.exchange_apikey(apikey, as_cli=True))
    if session.refresh_token is None:
        raise CliError(f"{endpoint} issued no refresh token to the CLI client; no session kept")
    return session, save(session)


def current() -> Session:
    """The session to run a command with.

    STRONGROOM_APIKEY wins over the file (a fresh token each run, no refresh token asked for,
    nothing stored); STRONGROOM_ENDPOINT overrides the endpoint either way, for this run only.
    """
    apikey = env_apikey()
    if apikey is not None:
        endpoint = login_endpoint(None)
        with Client(endpoint) as client:
            return session_from(endpoint, client.exchange_apikey(apikey, as_cli=False))
    stored = load()
    if stored is None:
        raise CliError(NOT_LOGGED_IN)
    endpoint = (env_endpoint() or stored.endpoint).rstrip("/")
    if stored.expires_soon(time.time()):
        with _refresh_lock():
            # Another invocation may have refreshed while this one waited for the lock.
            stored = load() or stored
            if stored.expires_soon(time.time()):
                stored = refreshed(stored, endpoint)
    return replace(stored, endpoint=endpoint)


def refreshed(stored: Session, endpoint: str) -> Session:
    """Trade the refresh token for new tokens and save them at once: the old one is now spent."""
    if stored.refresh_token is None:
        raise CliError("the session has expired; run `strongroom login` again")
    with Client(endpoint) as client:
        try:
            body = client.refresh(stored.refresh_token)
        except CliError as exc:
            if exc.status != 400:  # unreachable or failing server: the session may still be good
                raise
            raise CliError(
                f"the session could not be renewed ({exc.message}); run `strongroom login` again",
                exc.status,
            ) from exc
    session = session_from(stored.endpoint, body)  # the stored endpoint, not this run's override
    save(session)
    return session
