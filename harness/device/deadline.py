"""A deadline on the monotonic clock, for every wait on a device: answers, boots, sockets."""

from __future__ import annotations

import time


class Deadline:
    """A point in time on the monotonic clock; ``None`` seconds means never."""

    def __init__(self, seconds: float | None) -> None:
        self.start = time.monotonic()
        self.end = None if seconds is None else self.start + max(0.0, seconds)

    def remaining(self) -> float:
        """Seconds left (0.0 once expired, ``inf`` for a deadline that never expires)."""
        if self.end is None:
            return float("inf")
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        """Whether the point in time has passed (never for ``None``)."""
        return self.end is not None and time.monotonic() >= self.end

    def elapsed(self) -> float:
        """Seconds since the deadline was made."""
        return time.monotonic() - self.start
