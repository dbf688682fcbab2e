"""`python -m benchmarks [SUITE ...]`: run the suites (the default ones when none is named) and
print their figures. `world` (a 1M-policy world, minutes) runs only when named."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from rich.console import Console

from benchmarks import (
    bench_authz,
    bench_decide,
    bench_kms,
    bench_nodes,
    bench_startup,
    bench_tokens,
    bench_world,
)
from benchmarks.report import Figure, machine, markdown, print_table

Suite = Callable[[int, Callable[[str], None]], list[Figure]]
SUITES: dict[str, Suite] = {
    "tokens": bench_tokens.run,
    "startup": bench_startup.run,
    "decide": bench_decide.run,
    "kms": bench_kms.run,
    "nodes": bench_nodes.run,
    "world": bench_world.run,
    "authz": bench_authz.run,
}
DEFAULT = (
    "tokens",
    "startup",
    "decide",
    "kms",
    "nodes",
    "authz",
)  # `world` is opt-in: it takes minutes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=f"one of {', '.join(SUITES)}; default {', '.join(DEFAULT)}",
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per figure (at least 3)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    if args.reps < 3:
        parser.error("--reps must be at least 3: figures are medians")

    console = Console(width=None if sys.stdout.isatty() else 160)
    status = Console(stderr=True, log_path=False)
    info = machine()
    started = time.monotonic()
    figures: list[Figure] = []
    for name in args.suites or DEFAULT:
        figures += SUITES[name](args.reps, lambda text: status.log(text, highlight=False))
    info["wall time"] = f"{time.monotonic() - started:.0f} s"
    print_table(figures, info, args.reps, console)
    if args.markdown:
        console.print(markdown(figures, args.reps), highlight=False, markup=False, soft_wrap=True)
    return 0 if all(f.ok for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
