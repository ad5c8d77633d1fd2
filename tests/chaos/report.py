"""Run the experiments, print the table, keep it in ``var/chaos/report.md``."""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from tests.chaos.adt_flood import adt_flood
from tests.chaos.experiments import (
    Row,
    full_disk,
    pacs_outage,
    postgres_restarts,
    server_kills,
    worker_kills,
)

EXPERIMENTS: dict[str, Callable[[], Row]] = {
    "pacs-outage": pacs_outage,
    "worker-kills": worker_kills,
    "server-kills": server_kills,
    "postgres-restarts": postgres_restarts,
    "full-disk": full_disk,
    "adt-flood": adt_flood,
}
REPORT = Path("var/chaos/report.md")
HEADER = "| experiment | sent | acknowledged | readable | delivered | duplicates | notes |"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("experiments", nargs="*", choices=[[], *EXPERIMENTS], metavar="NAME")
    chosen = parser.parse_args().experiments or list(EXPERIMENTS)
    lines = [HEADER, "|---|---:|---:|---:|---:|---:|---|"]
    failed = False
    for name in chosen:
        started = time.monotonic()
        print(f"==> {name}", flush=True)
        try:
            row = EXPERIMENTS[name]()
        except BaseException as exc:  # a tool missing, a bug: the other experiments still run
            if isinstance(exc, KeyboardInterrupt):
                raise
            traceback.print_exc()
            lines.append(f"| {name} | could not run: {type(exc).__name__}: {exc} |||||")
            failed = True
            continue
        line = _line(row, time.monotonic() - started)
        print(line, flush=True)
        lines.append(line)
        failed |= row.acknowledged != row.readable and "ADT" not in row.experiment
        failed |= row.duplicates != 0
    table = "\n".join(lines) + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(table)
    print("\n" + table + f"\n(kept in {REPORT})")
    return 1 if failed else 0


def _line(row: Row, seconds: float) -> str:
    delivered = "n/a" if row.delivered is None else str(row.delivered)
    return (
        f"| {row.experiment} | {row.sent} | {row.acknowledged} | {row.readable} | {delivered} "
        f"| {row.duplicates} | {row.notes}; {seconds:.0f} s |"
    )
