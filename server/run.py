"""Run the API on uvicorn: `hall serve` (cli.py) and the tests' servers call `serve` / `Server`."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn

from ..engine.clock import Clock
from .app import Hall, make_app
from .peer import PeerProtocol


def config(
    url: str,
    settings: Mapping[str, Any],
    forms_dir: str | Path | None,
    host: str,
    port: int,
    log: bool = True,
    clock: Clock | None = None,
    socket: str | None = None,
    threads: int | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration of a hall server on `host`:`port`, or on the Unix socket `socket`
    (callers identified by the kernel: server/peer.py). `threads`: the engine's worker threads (None:
    none on SQLite, whose one writer takes the calls in turn on the event loop; 4 on PostgreSQL)."""
    app = make_app(Hall(url, settings, forms_dir, clock, peer_auth=socket is not None, threads=threads))
    extra: dict[str, Any] = {"uds": socket, "http": PeerProtocol} if socket else {}
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        **extra,
        log_level="info" if log else "warning",
        access_log=log,
        lifespan="on",
        server_header=False,
    )


def serve(
    url: str,
    settings: Mapping[str, Any],
    forms_dir: str | Path | None,
    host: str,
    port: int,
    socket: str | None = None,
    threads: int | None = None,
) -> None:
    """Serve until SIGTERM / Ctrl-C."""
    uvicorn.Server(config(url, settings, forms_dir, host, port, socket=socket, threads=threads)).run()


class Background:
    """A server in a thread of this process, for tests and benchmarks: started, its port known, stopped."""

    def __init__(
        self,
        url: str,
        settings: Mapping[str, Any],
        forms_dir: str | Path | None,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
        socket: str | None = None,
    ) -> None:
        self.socket = socket
        self.server = uvicorn.Server(config(url, settings, forms_dir, host, 0, log=False, clock=clock, socket=socket))
        self.thread = threading.Thread(target=self.server.run, name="hall-serve", daemon=True)

    def start(self, timeout: float = 30.0) -> str:
        """Start and wait until it listens; returns its base URL."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hall server did not start")
            time.sleep(0.01)
        if self.socket:
            return f"unix:{self.socket}"
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
