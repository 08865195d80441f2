"""Regression floors: a run fails when a measured figure falls below the floor set for it.

The floors file has one section per question set, plus optional top-level ``systems`` floors on all
questions together::

    {"sets": {"panels": {"systems": {"hybrid": {"recall@10": 0.84}},
                         "answers": {"found": 0.83, "cites_evidence": 0.73},
                         "refused": {"near": 0.9, "off": 0.9}}},
     "systems": {"hybrid": {"ndcg@10": 0.8}}}

``answers`` keys are those of ``eval.answers.summarise_answers`` (found, cites_evidence, single_force_only,
sentences_cited); ``refused`` keys are trap kinds (near, force, off), floors on the share refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from precedent.eval.run import METRICS, EvalResult
from precedent.ingest.errors import PrecedentError


def load_floors(path: Path) -> dict[str, Any]:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PrecedentError(f"floors file {path} not found: pass the path of eval/floors.json") from None
    except json.JSONDecodeError as exc:
        raise PrecedentError(f"floors file {path} is not valid JSON ({exc.msg})") from None
    if not isinstance(spec, dict):
        raise PrecedentError(f"floors file {path} must hold a JSON object with 'sets' and/or 'systems'")
    return spec


class _Check:
    def __init__(self) -> None:
        self.checked: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def against(self, where: str, what: str, floor: float, value: float | None) -> None:
        self.checked.append({"where": where, "metric": what, "floor": floor, "value": value})
        if value is None:
            self.failures.append(f"{where} {what}: not measured in this run")
        elif value < floor:
            self.failures.append(f"{where} {what} = {value:.3f}, below the floor {floor:.3f}")


def check_floors(result: EvalResult, path: Path) -> dict[str, Any]:
    """Compare the run with the floors in ``path``; ``ok`` is False if any is missed."""
    spec = load_floors(path)
    check = _Check()

    def systems(floors: dict[str, dict[str, float]], label: str, metrics_of: Any) -> None:
        for system, wanted in floors.items():
            if system not in result.systems:
                check.failures.append(f"{label}{system}: not run (add it to --systems)")
                continue
            got = metrics_of(result.systems[system])
            for metric, floor in wanted.items():
                if metric not in METRICS:
                    check.failures.append(f"{label}{system} {metric}: unknown metric (valid: {', '.join(METRICS)})")
                    continue
                check.against(f"{label}{system}", metric, floor, got.get(metric) if got else None)

    systems(spec.get("systems") or {}, "", lambda s: s.metrics)
    answers = result.answers or {}
    for name, section in (spec.get("sets") or {}).items():
        if name not in result.sets:
            check.failures.append(f"set {name}: not in this run (pass its questions or traps)")
            continue
        systems(section.get("systems") or {}, f"{name} ", lambda s, n=name: s.per_set.get(n))
        for metric, floor in (section.get("answers") or {}).items():
            got = (answers.get("by_set") or {}).get(name, {})
            check.against(f"{name} answers", metric, floor, got.get(metric))
        for kind, floor in (section.get("refused") or {}).items():
            got = ((answers.get("refusal") or {}).get(name) or {}).get(kind)
            check.against(f"{name} refused", kind, floor, got["share"] if got else None)
    return {"file": str(path), "ok": not check.failures, "checked": check.checked, "failures": check.failures}
