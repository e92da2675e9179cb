"""The dispatcher benchmark still runs (a smoke run; its figures are read by people, not asserted)."""

import re
import subprocess
import sys
from pathlib import Path


def test_dispatch_benchmark_plans_every_due_scrape(repo_root: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(repo_root / "benchmarks" / "dispatch.py"), "--targets", "200"],
        check=True,
        capture_output=True,
        text=True,
        cwd=repo_root,
    ).stdout
    assert "| targets, cold container  |" in out
    planned = int(re.search(r"scrapes planned for the minute: ([\d,]+)", out).group(1).replace(",", ""))
    # 2 targets at 1 s, 18 at 15 s, 120 at 60 s every minute; of the 60 at 5 m, those due this minute.
    every_minute = 2 * 60 + 18 * 4 + 120
    assert every_minute <= planned <= every_minute + 60
    assert re.search(r"fits a Lambda of \d+ MB", out)
