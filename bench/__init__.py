"""duban's benchmarks: `python -m bench` (or `make bench`) runs them all and writes bench/RESULTS.md."""
