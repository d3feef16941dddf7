"""Targets and boards as data, and the checks that a model fits one."""
