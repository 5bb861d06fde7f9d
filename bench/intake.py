"""Benchmark: durability and throughput of the public intake under a SIGKILL, and
reports per second through the HTML form beside the JSON API.

Durability, for SQLite and PostgreSQL: start `ombud serve` on 127.0.0.1, send 2,000
reports from 20 concurrent clients, kill the server with SIGKILL part-way, start it
again, send the rest, then check that every report that got a 2xx answer with a
tracking code is stored, intact (its follow link answers with the text that was
sent). Prints acknowledged, found, lost (must be 0) and throughput. Target (issue
7): at least 200 acknowledged reports per second on SQLite.

Paths, on SQLite (issue 14, item 7): reports per second on the public report form
of a published system, sent as a browser does (GET the form, then POST it as
multipart with the page's CSRF token, form token and empty honeypot), and on
`POST /api/v1/public/reports`, from the same concurrent clients. With `--before REV`
the same rounds also run against a server started from a `git worktree` of REV
(PYTHONPATH at its src, this virtualenv), interleaved with this tree's rounds so
both see the same machine; the worktree is removed afterwards.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from _common import database
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.register.domain.systems import PublicationState, SystemDetails

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(c: Any) -> int:
    """One organisation with one published system (through the services)."""
    org = c.accounts.create_organisation(
        SYSTEM_PRINCIPAL, "Bench City", OrganisationKind.PUBLIC_AUTHORITY
    )
    c.accounts.create_user(SYSTEM_PRINCIPAL, "bench@example.org", "bench-password-123")
    c.accounts.set_role(SYSTEM_PRINCIPAL, org.id, "bench@example.org", Role.ADMIN)
    admin = c.accounts.principal_for_email("bench@example.org")
    details = SystemDetails(
        name="Bench chatbot", purpose="Answers questions.", contact_point="ai@example.org"
    )
    system = c.register.create(admin, org.id, details)
    c.register.set_publication(admin, system.id, PublicationState.PUBLISHED)
    return int(system.id)


def start_server(
    url: str,
    data_dir: str,
    port: int,
    workers: int = 2,
    src: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`ombud serve` on 127.0.0.1:port; with ``src``, the ombud package found there."""
    env = {
        **os.environ,
        "OMBUD_DATABASE_URL": url,
        "OMBUD_DATA_DIR": data_dir,
        "OMBUD_ENV": "development",
        "OMBUD_PUBLIC_RATE_LIMIT": "off",
        # The follow links in receipts point here (not at the default port 8000).
        "OMBUD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    if src is not None:  # ahead of the virtualenv's editable install of this tree
        env["PYTHONPATH"] = str(src)
    proc = subprocess.Popen(
        [str(VENV_BIN / "ombud"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def run(backend: str, total: int, clients: int, workers: int) -> dict[str, Any]:
    with database(backend) as c:
        system_id = seed(c)
        url = c.settings.resolved_database_url
        data_dir = str(c.settings.data_dir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(url, data_dir, port, workers)
        acknowledged: dict[str, tuple[str, str]] = {}  # code -> (follow_url, text)
        lock = threading.Lock()
        errors = {"count": 0}
        sent = {"n": 0}
        kill_at = total // 2

        local = threading.local()

        def send(i: int) -> None:
            text = f"Report {i}: the chatbot gave a wrong answer about benefit {i}."
            body = {
                "system": system_id,
                "kind": "incident",
                "category": "decision_error",
                "description": text,
            }
            if not hasattr(local, "client"):
                local.client = httpx.Client(timeout=10)  # keep-alive, like a browser
            deadline = time.monotonic() + 60  # long enough for the server to restart
            while time.monotonic() < deadline:
                try:
                    r = local.client.post(f"{base}/api/v1/public/reports", json=body)
                except httpx.HTTPError:
                    time.sleep(0.1)  # the server is down (killed): try again
                    continue
                if 200 <= r.status_code < 300:
                    receipt = r.json()
                    with lock:
                        acknowledged[receipt["tracking_code"]] = (receipt["follow_url"], text)
                    return
                with lock:
                    errors["count"] += 1
                time.sleep(0.05)

        def killer() -> None:
            nonlocal proc
            while len(acknowledged) < kill_at:
                time.sleep(0.005)
            os.killpg(proc.pid, signal.SIGKILL)  # the server and all its workers, at once
            proc.wait()
            proc = start_server(url, data_dir, port, workers)

        t0 = time.perf_counter()
        burst_s = 0.0
        watcher = threading.Thread(target=killer)
        watcher.start()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for i in range(total):
                pool.submit(send, i)
                sent["n"] += 1
        watcher.join()
        elapsed = time.perf_counter() - t0
        # Throughput of an undisturbed run: a second, shorter batch after the restart.
        burst = min(1000, total)
        before = len(acknowledged)
        t1 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(send, range(total, total + burst)))
        burst_s = time.perf_counter() - t1
        steady = (len(acknowledged) - before) / burst_s
        # Every acknowledged report must be there, intact.
        found = 0
        with httpx.Client(timeout=10) as client:
            for follow_url, _text in acknowledged.values():
                r = client.get(follow_url, headers={"Accept": "application/json"})
                if r.status_code == 200 and r.json().get("state") == "received":
                    found += 1
        intact = 0
        with c.engines.read.connect() as conn:
            from sqlalchemy import select

            from ombud.remedies.tables import cases

            stored = dict(conn.execute(select(cases.c.tracking_code, cases.c.description)).all())
        for code, (_url, text) in acknowledged.items():
            if stored.get(code) == text:
                intact += 1
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        return {
            "sent": total + burst,
            "acknowledged": len(acknowledged),
            "found": found,
            "intact": intact,
            "lost": len(acknowledged) - intact,
            "refused_or_failed_attempts": errors["count"],
            "killed_after_acknowledged": kill_at,
            "with_kill_reports_per_s": round(total / elapsed, 1),
            "steady_reports_per_s": round(steady, 1),
            "clients": clients,
            "workers": workers,
        }


# -- the HTML form path beside the API path --------------------------------------

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """The src folder of a temporary `git worktree` of ``rev``, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="ombud-before-"))
    tree = tmp / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), rev],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield tree / "src"
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
        )
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


class Side:
    """One server (this tree, or the --before revision) with its own database."""

    def __init__(self, name: str, rev: str, src: Path, c: Any, workers: int) -> None:
        self.name, self.rev = name, rev
        self.system_id = seed(c)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = start_server(
            c.settings.resolved_database_url,
            str(c.settings.data_dir),
            self.port,
            workers,
            src,
            # No bot check delay, no background work competing with the intake.
            {
                "OMBUD_PUBLIC_MIN_FILL_SECONDS": "0",
                "OMBUD_AUDIT_WORKERS": "0",
                "OMBUD_LEDGER_CHECKPOINT_SECONDS": "0",
            },
        )
        self.figures: dict[str, list[float]] = {"html": [], "api": []}
        self.failed = {"html": 0, "api": 0}

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)


def _html_report(client: httpx.Client, side: Side, text: str) -> bool:
    """What a browser does: load the form, send it (multipart, as the form says)."""
    page = client.get(f"{side.base}/register/{side.system_id}/report")
    csrf, token = _CSRF.search(page.text), _FORM_TOKEN.search(page.text)
    if page.status_code != 200 or not csrf or not token:
        return False
    fields = {
        "csrf_token": csrf.group(1),
        "form_token": token.group(1),
        "kind": "complaint",
        "category": "decision_error",
        "description": text,
        "decision_reference": "",
        "contact": "",
        "website": "",
    }
    empty_file_input = [("attachments", ("", b"", "application/octet-stream"))]
    sent = client.post(
        f"{side.base}/register/{side.system_id}/report", data=fields, files=empty_file_input
    )
    return sent.status_code == 201


def _api_report(client: httpx.Client, side: Side, text: str) -> bool:
    body = {
        "system": side.system_id,
        "kind": "complaint",
        "category": "decision_error",
        "description": text,
    }
    return client.post(f"{side.base}/api/v1/public/reports", json=body).status_code == 201


PATHS: dict[str, Callable[[httpx.Client, Side, str], bool]] = {
    "html": _html_report,
    "api": _api_report,
}


def _batch(side: Side, path: str, reports: int, clients: int) -> tuple[float, int]:
    """``reports`` sent from ``clients`` threads (one keep-alive client each): (reports/s
    of those answered 201, how many were not)."""
    local = threading.local()
    send = PATHS[path]
    made: list[httpx.Client] = []
    lock = threading.Lock()

    def one(i: int) -> bool:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30)
            with lock:
                made.append(local.client)
        try:
            return send(local.client, side, f"Report {i} on the {path} path: benefit stopped.")
        except httpx.HTTPError:
            return False

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, range(reports)))
    elapsed = time.perf_counter() - t0
    for client in made:
        client.close()
    ok = sum(results)
    return ok / elapsed, len(results) - ok


def run_paths(
    rounds: int, reports: int, clients: int, workers: int, before: str | None
) -> dict[str, Any]:
    with ExitStack() as stack:
        sides = []
        if before:
            src = stack.enter_context(checkout(before))
            c = stack.enter_context(database("sqlite"))
            sides.append(Side("before", before, src, c, workers))
            stack.callback(sides[-1].stop)
        c = stack.enter_context(database("sqlite"))
        sides.append(Side("after", "this working tree", REPO / "src", c, workers))
        stack.callback(sides[-1].stop)
        for side in sides:  # warm up: imports, templates, connections
            for path in PATHS:
                _batch(side, path, max(clients, 20), clients)
        for r in range(rounds):
            # Interleaved, the order turned each round: drift on the machine hits all.
            order = sides if r % 2 == 0 else sides[::-1]
            for side in order:
                for path in list(PATHS) if r % 2 == 0 else list(PATHS)[::-1]:
                    rate, failed = _batch(side, path, reports, clients)
                    side.figures[path].append(round(rate, 1))
                    side.failed[path] += failed
        out: dict[str, Any] = {
            "backend": "sqlite",
            "html_path": "GET /register/{id}/report, then POST it as multipart "
            "(CSRF token, form token, empty honeypot and file input)",
            "api_path": "POST /api/v1/public/reports (JSON)",
            "rounds": rounds,
            "reports_per_round_and_path": reports,
            "clients": clients,
            "workers": workers,
            "unit": "reports/s answered 201, median of the rounds",
        }
        for side in sides:
            html = statistics.median(side.figures["html"])
            api = statistics.median(side.figures["api"])
            out[side.name] = {
                "rev": side.rev,
                "html_reports_per_s": round(html, 1),
                "api_reports_per_s": round(api, 1),
                "html_to_api": round(html / api, 3) if api else None,
                "rounds_reports_per_s": side.figures,
                "not_201": side.failed,
            }
        if before:
            for path in PATHS:
                new = out["after"][f"{path}_reports_per_s"]
                old = out["before"][f"{path}_reports_per_s"]
                out[f"{path}_after_to_before"] = round(new / old, 3) if old else None
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--part", choices=["all", "durability", "paths"], default="all", help="what to run"
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also measure the paths on a server from this git revision, interleaved",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the paths part")
    parser.add_argument(
        "--path-reports", type=int, default=300, help="reports per round, side and path"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out: dict[str, Any] = {
        "benchmark": "intake",
        "targets": {"sqlite_reports_per_s": 200, "lost": 0},
    }
    if args.part in ("all", "durability"):
        for b in backends:
            out[b] = run(b, args.reports, args.clients, args.workers)
    if args.part in ("all", "paths"):
        out["paths"] = run_paths(
            args.rounds, args.path_reports, args.clients, args.workers, args.before
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
