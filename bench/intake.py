"""Benchmark: durability and throughput of the public intake under a SIGKILL.

For SQLite and PostgreSQL: start `ombud serve` on 127.0.0.1, send 2,000 reports
from 20 concurrent clients, kill the server with SIGKILL part-way, start it again,
send the rest, then check that every report that got a 2xx answer with a tracking
code is stored, intact (its follow link answers with the text that was sent).
Prints acknowledged, found, lost (must be 0) and throughput. Target (issue 7):
at least 200 acknowledged reports per second on SQLite. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from _common import database
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.register.domain.systems import PublicationState, SystemDetails

VENV_BIN = Path(sys.executable).parent


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


def start_server(url: str, data_dir: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OMBUD_DATABASE_URL": url,
        "OMBUD_DATA_DIR": data_dir,
        "OMBUD_ENV": "development",
        "OMBUD_PUBLIC_RATE_LIMIT": "off",
    }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out: dict[str, Any] = {
        "benchmark": "intake",
        "targets": {"sqlite_reports_per_s": 200, "lost": 0},
    }
    for b in backends:
        out[b] = run(b, args.reports, args.clients, args.workers)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
