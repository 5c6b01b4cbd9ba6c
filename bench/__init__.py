"""The benchmarks (`make bench`); run them as modules from the repository root: python -m bench.run."""
