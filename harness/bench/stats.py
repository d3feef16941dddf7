"""Median / min / max of repeated measurements, and the markdown they print as."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Figure:
    """One benchmark figure: the samples and how to show them."""

    name: str
    samples: list[float]
    unit: str = ""
    goal: str = ""  # e.g. "<= 1.2"
    command: str = ""
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def met(self) -> bool | None:
        """Whether the median meets the goal (None without a goal)."""
        if not self.goal or not self.samples:
            return None
        op, value = self.goal.split()
        limit = float(value)
        return self.median <= limit if op == "<=" else self.median >= limit

    def row(self) -> str:
        if not self.samples:
            return f"| {self.name} | - | - | - | {self.goal or '-'} | {self.note} |"
        fmt = (lambda v: f"{v:,.3f}") if self.median < 100 else (lambda v: f"{v:,.0f}")
        met = {True: "met", False: "**missed**", None: ""}[self.met()]
        goal = f"{self.goal} {met}".strip() if self.goal else "-"
        return (f"| {self.name} | {fmt(self.median)} {self.unit} | {fmt(min(self.samples))} | "
                f"{fmt(max(self.samples))} | {goal} | {self.note} |")


HEADER = "| figure | median | min | max | goal | note |\n|---|---|---|---|---|---|"


def table(figures: list[Figure]) -> str:
    """A markdown table of figures."""
    return "\n".join([HEADER, *(f.row() for f in figures)])
