"""A real strongroom server on a loopback port in a background thread (tests, benchmarks).

`LiveServer(..., joins=first)` is a second node of `first`: the same database and root key, an
existing account instead of a first start (docs/deployment.md).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from strongroom import bootstrap
from strongroom.clock import Clock
from strongroom.config import Settings


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str | None = None
    clock: Clock | None = None
    kms_clock: Clock | None = None  # the key lifecycle's clock alone (bootstrap.build)
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    apikey: str = field(default_factory=lambda: "test-" + secrets.token_urlsafe(32))
    joins: LiveServer | None = None  # another node of this started server

    # Set by start().
    url: str = field(init=False, default="")
    port: int = field(init=False, default=0)
    settings: Settings = field(init=False)
    account_id: str = field(init=False, default="")
    iam_id: str = field(init=False, default="")

    def start(self) -> LiveServer:
        overrides = dict(self.settings_overrides)
        if self.joins is not None:
            first = self.joins
            self.database_url = first.settings.resolved_database_url()
            self.apikey = first.apikey
            overrides.setdefault("root_key_file", first.settings.resolved_root_key_file())
            # Nodes behind one load balancer share its URL, and with it the tokens' `iss`.
            overrides.setdefault("public_url", first.url)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            port=self.port,
            bootstrap_apikey=self.apikey,
            **{"public_url": self.url, **overrides},
        )
        self.runtime = bootstrap.build(self.settings, self.clock, self.kms_clock)
        created = self.runtime.first_start
        if self.joins is not None:
            if created is not None:
                self.runtime.close()
                raise RuntimeError("a joining LiveServer needs its first node's database")
            self.account_id, self.iam_id = self.joins.account_id, self.joins.iam_id
        elif created is None:
            self.runtime.close()
            raise RuntimeError("a LiveServer needs an empty database")
        else:
            self.account_id = created.account.id
            self.iam_id = created.owner.iam_id
        config = uvicorn.Config(
            self.runtime.app, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        self.runtime.close()

    @property
    def container(self) -> Any:
        return self.runtime.container
