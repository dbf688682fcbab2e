"""strongroom's benchmarks: figures printed by `python -m benchmarks` (`make bench`).

Not timed tests: nothing here passes or fails on a number. Each figure is the median of several
repetitions, printed beside the bound it is measured against; docs/benchmarks.md records them.
"""
