"""The README's Sources section stays true: its table is the registry's, its examples work."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from precedent.ingest.crawl.coverage import force_sources
from precedent.ingest.crawl.registry import load_registry
from tests.conftest import ROOT


def sources_section() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Sources\n"): text.index("\n## ", text.index("## Sources\n") + 1)]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", sources_section(), re.DOTALL)


def test_the_sources_table_lists_every_force_as_the_registry_has_it() -> None:
    rows = [line for line in sources_section().splitlines() if line.startswith("| ") and not line.startswith("| force")]
    table = [tuple(cell.strip() for cell in row.strip("|").split("|")) for row in rows]
    expected = [(r.force, r.system, ", ".join(r.hosts), r.committee, r.status)
                for r in force_sources(load_registry(), {}, {})]
    assert table == expected
    assert len(table) == 41


def test_the_example_registry_merges_over_the_bundled_one(tmp_path: Path) -> None:
    (example,) = blocks("toml")
    user = tmp_path / "panels.toml"
    user.write_text(example)
    panels = {p.force: p for p in load_registry(user=user)}
    assert panels["Cleveland"].crawl_sites[0].committee_id == 231
    assert panels["West Yorkshire"].sites[0].follow == r"/meetings/\d{4}-\d{2}-\d{2}$"


def test_the_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    units = blocks("ini")
    assert len(units) == 2
    precedent = Path(sys.executable).with_name("precedent")
    for unit in units:
        name = re.search(r"^# /etc/systemd/system/(\S+)$", unit, re.MULTILINE).group(1)  # type: ignore[union-attr]
        (tmp_path / name).write_text(unit.replace("/opt/precedent/.venv/bin/precedent", str(precedent)))
    result = subprocess.run([analyze, "verify", *(str(p) for p in sorted(tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl --all" in units[0] and "OnCalendar=" in units[1]
