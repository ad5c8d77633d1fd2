"""Phone pages: Lighthouse's mobile performance score of the pages a nurse opens at the bedside.

Runs ``infra/lighthouse.py`` (a demo server of its own, signed in over its forms, a bedside
session opened for the capture page) on the sign-in, home, bedside scan and capture pages, each
``rounds`` times, with Lighthouse 12 from var/tools (``make bench`` installs it with npm) and
/usr/bin/chromium headless. The target is a performance score of at least 95 on each page: the
median over the rounds (the lowest is shown beside it; on a machine shared with other work, a
round whose CPU was taken by others scores its neighbours more than the page).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.report import Verdict, cell, summary, unmeasured
from tests.support.tools import REPO_ROOT

KEY = "phone_pages"
PAGES = ("login", "home", "scan", "capture")
TARGET = 95
LIGHTHOUSE = REPO_ROOT / "var" / "tools" / "node_modules" / ".bin" / "lighthouse"
SCRIPT = REPO_ROOT / "infra" / "lighthouse.py"
CHROMIUM = Path("/usr/bin/chromium")


def measure(rounds: int, work: Path, log: Callable[[str], None]) -> dict[str, Any]:
    if not LIGHTHOUSE.exists() or not CHROMIUM.exists():
        return {
            "status": "not measured",
            "why": f"needs {LIGHTHOUSE.relative_to(REPO_ROOT)} (make lighthouse installs it) "
            f"and {CHROMIUM}",
        }
    scores_file = work / "lighthouse.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--lighthouse",
            str(LIGHTHOUSE),
            "--out",
            str(work / "lighthouse"),
            "--pages",
            ",".join(PAGES),
            "--rounds",
            str(rounds),
            "--json",
            str(scores_file),
        ],
        capture_output=True,
        text=True,
        timeout=300 * rounds * len(PAGES),
        check=False,
        env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", str(CHROMIUM))},
    )
    for line in done.stdout.splitlines():
        log(f"  {line}")
    if not scores_file.exists():
        return {"status": "not measured", "why": (done.stderr or done.stdout)[-500:]}
    document = json.loads(scores_file.read_text())
    out: dict[str, Any] = {"rounds": rounds, "form_factor": "mobile (Lighthouse 12 defaults)"}
    for name, runs in document["pages"].items():
        out[name] = {category: summary(run[category] for run in runs) for category in runs[0]}
    if document["missed"]:
        out["missed"] = document["missed"]
    return out


def target_rows(results: dict[str, Any]) -> list[Verdict]:
    block = results.get(KEY, {})
    rows: list[Verdict] = []
    for page in PAGES:
        target = f"phone pages: Lighthouse mobile performance >= {TARGET} on {page} (median)"
        score = block.get(page, {}).get("performance")
        if score is None:
            rows.append((target, "-", None))
            continue
        rows.append((target, cell(score), score["median"] >= TARGET))
    return rows


def markdown_lines(results: dict[str, Any]) -> list[str]:
    block = results.get(KEY, {})
    title = "#### Phone pages (Lighthouse, mobile)"
    if (absent := unmeasured(title, block)) is not None:
        return absent
    lines = [
        title,
        "",
        f"{block['rounds']} rounds per page; median (min–max) of each score. The host benchmark "
        "index is Lighthouse's measure of this machine's speed in each run (lower when other "
        "work takes the CPU; Lighthouse's mobile CPU slowdown of 4x assumes an idle desktop).",
        "",
        "| page | performance | accessibility | best practices | host benchmark index |",
        "|---|---|---|---|---|",
    ]
    for page in PAGES:
        scores = block.get(page)
        if not scores:
            lines.append(f"| {page} | not measured | | | |")
            continue
        cells = [
            cell(scores[c]) if c in scores else "-"
            for c in ("performance", "accessibility", "best-practices", "host_benchmark_index")
        ]
        lines.append(f"| {page} | " + " | ".join(cells) + " |")
    lines += [f"- lowest round below the target: {miss}" for miss in block.get("missed", [])]
    return [*lines, ""]
