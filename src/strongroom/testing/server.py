"""A real strongroom server on a loopback port in a background thread (tests, benchmarks)."""

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

    def start(self) -> LiveServer:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            port=self.port,
            public_url=self.url,
            bootstrap_apikey=self.apikey,
            **self.settings_overrides,
        )
        self.runtime = bootstrap.build(self.settings, self.clock, self.kms_clock)
        first = self.runtime.first_start
        if first is None:
            raise RuntimeError("a LiveServer needs an empty database")
        self.account_id = first.account.id
        self.iam_id = first.owner.iam_id
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
