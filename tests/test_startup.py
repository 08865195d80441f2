"""Starting up: `precedent serve` says when it is ready, and /health says "warming" (never ok) until then."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.settings import Settings
from tests.helpers import free_port, small_corpus


def test_health_says_warming_until_serve_prints_ready_and_then_ok(seeds_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest_paths([small_corpus(tmp_path / "corpus", seeds_dir, 4)], settings).added == 4
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "precedent.api.cli", "serve", "--port", str(port), "--data-dir", str(settings.data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(server.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    seen: list[tuple[int, str]] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                res = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            seen.append((res.status_code, res.json()["status"]))
            if res.status_code == 200:
                break
            time.sleep(0.02)
        assert seen and seen[-1] == (200, "ok"), (seen[-3:], lines)
        assert all(answer == (503, "warming") for answer in seen[:-1]), seen
        ask = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": "What did the panel say about the precept?"},
                         timeout=60)
        assert ask.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=10)
    assert any(line.startswith("ready in ") for line in lines), lines
