"""The benchmark: ``python -m bench --help`` (``make bench``); see bench/README.md."""
