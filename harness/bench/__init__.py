"""`invoke bench`: the speed goals measured in one place, written to BENCHMARKS.md.

One module per figure: emulated.py (a), link.py (b), builds.py (c),
references.py (d) and harness/runtimes.py (e). Every figure is a median of
several runs with min and max, and each ratio is taken within one run.
"""
