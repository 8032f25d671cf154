"""`hall serve` benchmark (issue 16): completions/s through the server against the in-process API,
in the same run, and the wall time of `hall tasks` as a whole process in client and direct mode.

    python bench/serve.py [--instances 200] [--clients 1,4,16] [--db PATH_OR_URL] [--repeat 3]

Each measurement starts `--instances` cases of a linear process of 7 user tasks of one role
(users kept in the database, so every call runs the permission checks, as staff's do) and
completes every task: in process, one Engine call after another; through the server (`hall serve`
as its own process, on 127.0.0.1), by N concurrent clients, each an HTTP client with a kept-alive
connection completing the tasks of its share of the cases. Printed: completions/s of each and the
ratio to in-process (target: >= 50% with 4 clients). Then `hall tasks` timed as a whole process,
the best of --repeat runs, with HALL_URL (client mode, target <= 0.2 s) and with HALL_DB (direct).

A file SQLite database by default (a fresh temporary file); `--db postgresql+psycopg://…/bench`
for PostgreSQL (a database of its own: its public schema is dropped and made anew for each measurement). Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PASSWORD = "bench-password"
CONFIG = {
    "roles": {"clerk": {"serves": ["clerks"]}, "boss": {"serves": [], "may": ["admin", "deploy", "see_all"]}},
    "users": [{"id": "li", "roles": ["clerk"]}, {"id": "boss", "roles": ["boss"]}],
}


def diagram(folder: Path) -> Path:
    """linear7 with its user tasks in the role `clerks`."""
    text = (FIXTURES / "linear7.bpmn").read_text(encoding="utf-8").replace('id="linear7"', 'id="linear7_serve"')
    for i in range(1, 8):
        text = text.replace(
            f'<bpmn:userTask id="step{i}"', f'<bpmn:userTask camunda:candidateGroups="clerks" id="step{i}"'
        )
    path = folder / "linear7_serve.bpmn"
    path.write_text(text, encoding="utf-8")
    return path


def fresh(db: str, folder: Path) -> Any:
    """A new database with the diagram deployed and the users kept in it; returns an Engine."""
    from hall.engine import Engine

    if "://" not in db or db.startswith("sqlite"):
        path = Path(db.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    eng = Engine(db, forms_dir=None, settings=CONFIG)
    if "postgresql" in db:
        with eng.store.engine.begin() as conn:  # each measurement on empty tables
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    eng.init()
    eng.directory.import_config(CONFIG, user="boss")
    eng.deploy([diagram(folder)], user="boss")
    eng.directory.set_password("li", PASSWORD, user="boss")
    return eng


def in_process(db: str, folder: Path, n: int) -> float:
    """Completions/s through the Python API, one call after another."""
    eng = fresh(db, folder)
    cases = [eng.start("linear7_serve", None, {}, user="li") for _ in range(n)]
    done = 0
    t0 = time.perf_counter()
    for case in cases:
        while case["tasks"]:
            case = eng.complete(case["tasks"][0]["id"], {}, user="li")
            done += 1
    elapsed = time.perf_counter() - t0
    eng.close()
    return done / elapsed


class ServeProcess:
    """`hall serve` as its own process on a free 127.0.0.1 port, as a hall deploys it (the clients
    then share no interpreter lock with the server)."""

    def __init__(self, url: str, folder: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")}
        config = folder / "hall.yaml"
        config.write_text("# users are kept in the database\n", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hall.cli", "--db", url, "serve", "--port", str(self.port)],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 30.0) -> str:
        """The base URL once /health answers."""
        import urllib.request

        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    return base
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise SystemExit("hall serve did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def through_server(db: str, folder: Path, n: int, clients: int) -> float:
    """Completions/s by `clients` concurrent HTTP clients (threads of this process) against `hall
    serve` running as its own process."""
    from hall.client import Client

    eng = fresh(db, folder)
    cases = [eng.start("linear7_serve", None, {}, user="li") for _ in range(n)]
    token = eng.directory.login("li", PASSWORD)["token"]
    url = eng.store.url
    eng.close()
    server = ServeProcess(url, folder)
    base = server.start()
    shares = [cases[i::clients] for i in range(clients)]
    counts = [0] * clients
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def work(i: int) -> None:
        client = Client(base, token=token)
        try:
            barrier.wait()
            for case in shares[i]:
                while case["tasks"]:
                    case = client.complete(case["tasks"][0]["id"], {})
                    counts[i] += 1
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    server.stop()
    if errors:
        raise errors[0]
    return sum(counts) / elapsed


def command_times(db: str, folder: Path, repeat: int) -> tuple[float, float]:
    """Best wall time of `hall tasks` as a whole process: (client mode, direct mode)."""
    from hall.server.run import Background

    eng = fresh(db, folder)
    for _ in range(20):
        eng.start("linear7_serve", None, {}, user="li")
    token = eng.directory.login("li", PASSWORD)["token"]
    url = eng.store.url
    eng.close()
    server = Background(url, CONFIG, None)
    base = server.start()
    hall = [sys.executable, "-m", "hall.cli"]
    config = folder / "hall.yaml"
    config.write_text("# users are kept in the database\n", encoding="utf-8")

    def best(env: dict[str, str], *args: str) -> float:
        fastest = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(hall + list(args), env=env, check=True, capture_output=True, cwd=folder)
            fastest = min(fastest, time.perf_counter() - t)
        return fastest

    clean = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")}
    try:
        client = best(dict(clean, HALL_URL=base, HALL_TOKEN=token), "tasks")
        direct = best(dict(clean, HALL_DB=url), "--user", "li", "tasks")
    finally:
        server.stop()
    return client, direct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--db", default=None, help="database (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hall-bench-serve-") as tmp:
        folder = Path(tmp)
        db = args.db or str(folder / "bench.db")
        n = args.instances
        base = in_process(db, folder, n)
        print(f"in-process API: {base:8.1f} completions/s ({n} cases x 7 tasks, user li, permission checks on)")
        for clients in (int(c) for c in args.clients.split(",")):
            rate = through_server(db, folder, n, clients)
            target = "  (target >= 50% with 4 clients)" if clients == 4 else ""
            print(f"server, {clients:>2} clients: {rate:8.1f} completions/s = {rate / base:6.1%} of in-process{target}")
        client, direct = command_times(db, folder, args.repeat)
        print(f"hall tasks as a process: client mode {client:.3f} s (target <= 0.2), direct mode {direct:.3f} s")


if __name__ == "__main__":
    main()
