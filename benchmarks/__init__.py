"""strongroom's benchmarks: figures printed by `python -m benchmarks` (`make bench`).

Not timed tests: nothing here passes or fails on a number. Each figure is the median of several
repetitions, printed beside the bound it is measured against; docs/benchmarks.md records them.
"""

import os

# The benchmarks mint tokens from one address as fast as they can: the per-source and per-key
# rates (10/s by default, reliability.md T4) would measure the limiter, not the server.
for _name in ("STRONGROOM_RATE_LIMIT_PER_SOURCE", "STRONGROOM_RATE_LIMIT_PER_APIKEY"):
    os.environ.setdefault(_name, "1000000")
