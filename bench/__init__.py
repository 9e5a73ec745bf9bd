"""`make bench`: throughput of the hot paths against a bare DRF floor (see bench/run.py)."""
