"""Start-up benchmark: how long commands take from a cold process, each run five times.

- ``precedent --help`` (target <= 0.5 s);
- ``precedent search`` on an index of the seeds, a new process each time (target <= 3 s);
- ``precedent serve``: start to its "ready" line (target <= 5 s), and the first ``/ask`` after that
  (target <= 1 s).

The seed index is built first (not timed); the int8 encoder is built once per machine beforehand.

    python -m precedent.eval.bench.startup [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from precedent.eval.bench.query import free_port
from precedent.eval.bench.synthetic import find_seeds
from precedent.ingest.embed import embedder_for, user_encoder_cache
from precedent.ingest.errors import PrecedentError
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.settings import Settings, quiet_and_offline

TARGETS_S = {"help": 0.5, "search": 3.0, "serve_ready": 5.0, "first_ask": 1.0}
QUERY = "precept increase"
QUESTION = "What did the panel say about the precept?"


def precedent_command() -> list[str]:
    """The installed ``precedent`` script beside this interpreter, else ``python -m precedent.api.cli``."""
    script = Path(sys.executable).parent / "precedent"
    return [str(script)] if script.exists() else [sys.executable, "-m", "precedent.api.cli"]


def time_command(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run. CPU time says more than wall time on a busy machine:
    it leaves out the time spent waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise PrecedentError(f"`{' '.join(args[-4:])}` failed: {proc.stderr[-400:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_serve(data_dir: Path, env: dict[str, str], timeout: float = 120.0) -> tuple[float, float]:
    """(seconds from start to the "ready" line, seconds of the first /ask after it)."""
    import httpx

    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([*precedent_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ready = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in iter(proc.stdout.readline, ""):  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("ready in "):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(timeout):
            raise PrecedentError(f"precedent serve was not ready in {timeout:.0f} s: {''.join(lines)[-600:]}")
        ready_s = time.perf_counter() - started
        asked = time.perf_counter()
        res = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": QUESTION}, timeout=60)
        ask_s = time.perf_counter() - asked
        if res.status_code != 200:
            raise PrecedentError(f"the first /ask failed ({res.status_code}): {res.text[:300]}")
        return ready_s, ask_s
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_startup_bench(runs: int = 5, *, seeds: Path | None = None, log: Any = None) -> dict[str, Any]:
    quiet_and_offline()
    say = log or (lambda msg: print(msg, file=sys.stderr))
    seeds = find_seeds(seeds)
    tmp = Path(tempfile.mkdtemp(prefix="precedent-bench-startup-"))
    try:
        settings = Settings(data_dir=tmp / "seeds", encoder_cache=Settings().encoder_cache or user_encoder_cache())
        env = {**os.environ, "PRECEDENT_ENCODER_CACHE": str(settings.encoder_dir)}
        embedder_for(settings)  # builds the int8 encoder if this machine has none yet: not what is timed
        say(f"indexing {seeds} (not timed)")
        ingest_paths([seeds], settings)
        timings: dict[str, list[float]] = {"help": [], "search": [], "serve_ready": [], "first_ask": []}
        cpu: dict[str, list[float]] = {"help": [], "search": []}
        command = precedent_command()
        for run in range(runs):
            say(f"run {run + 1}/{runs}")
            for name, args in (("help", ["--help"]), ("search", ["search", QUERY, "--data-dir", str(settings.data_dir)])):
                wall, cpu_s = time_command([*command, *args], env)
                timings[name].append(wall)
                cpu[name].append(cpu_s)
            ready_s, ask_s = time_serve(settings.data_dir, env)
            timings["serve_ready"].append(ready_s)
            timings["first_ask"].append(ask_s)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures = {name: {"median_s": round(statistics.median(v), 3), "min_s": round(min(v), 3), "max_s": round(max(v), 3),
                      "runs": [round(x, 3) for x in v], "target_s": TARGETS_S[name],
                      "meets": statistics.median(v) <= TARGETS_S[name],
                      "cpu_median_s": round(statistics.median(cpu[name]), 3) if name in cpu else None}
               for name, v in timings.items()}
    return {"runs": runs, "encoder": settings.encoder, "cpus": os.cpu_count(), "figures": figures}


LABELS = {"help": "precedent --help", "search": "precedent search (cold, seed index)",
          "serve_ready": "precedent serve: start to ready", "first_ask": "first /ask after ready"}


def format_startup(result: dict[str, Any]) -> str:
    lines = [f"{result['runs']} runs each, a new process every time; encoder {result['encoder']}, {result['cpus']} cores",
             f"{'':<38}{'median s':>10}{'min':>8}{'max':>8}{'target':>9}{'':>6}{'CPU s':>7}"]
    for name, f in result["figures"].items():
        verdict = "ok" if f["meets"] else "OVER"
        cpu = f"{f['cpu_median_s']:.2f}" if f["cpu_median_s"] is not None else ""
        lines.append(f"{LABELS[name]:<38}{f['median_s']:>10.2f}{f['min_s']:>8.2f}{f['max_s']:>8.2f}"
                     f"{'<= ' + str(f['target_s']):>9}  {verdict:<4}{cpu:>7}")
    lines.append("wall times are medians; CPU s (user + system, median) leaves out waiting for a core on a busy machine")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_startup_bench(args.runs)
    print(json.dumps(result, indent=2) if args.json else format_startup(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
