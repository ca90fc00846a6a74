"""Progress while grading: a live bar on a terminal, plain lines in a log.

On a terminal (the stream is a TTY) one line at the bottom is redrawn in place:
    [#########...............] 12/30  40%  ETA 1:20  now: bob, carol
and the per-student lines scroll above it. In a log file or a CI run (not a TTY) nothing is
redrawn: each finished item is one line that starts with its count and ends with the ETA,
    [12/30] alice: 22 / 22  (ETA 1:20)
so the log reads top to bottom with no control characters.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressBar:
    """Counts finished items out of ``total`` and shows which are running."""

    def __init__(self, total: int, log: Callable[[str], None] = print, stream: TextIO | None = None,
                 tty: bool | None = None, width: int = 24, clock: Callable[[], float] = time.monotonic,
                 announce: bool = False, numbered: bool = True) -> None:
        self.total, self.done, self.width = total, 0, width
        self.log, self.stream = log, stream if stream is not None else sys.stderr
        if tty is None:
            try:
                tty = self.stream.isatty()
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.clock, self.started_at = clock, clock()
        self.running: list[str] = []
        self.announce = announce  # plain mode: also a line when an item starts (slow items)
        self.numbered = numbered  # plain mode: prefix each finished line with its count
        self._drawn = False

    def eta(self) -> str:
        if not self.done:
            return "?"
        elapsed = self.clock() - self.started_at
        return format_seconds(elapsed / self.done * (self.total - self.done))

    def line(self) -> str:
        filled = int(self.width * self.done / self.total) if self.total else self.width
        pct = int(100 * self.done / self.total) if self.total else 100
        now = f"  now: {', '.join(self.running)}" if self.running else ""
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}  {pct}%  ETA {self.eta()}{now}"

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def _draw(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line()[:200])
            self.stream.flush()
            self._drawn = True

    def start(self, name: str) -> None:
        self.running.append(name)
        if self.tty:
            self._draw()
        elif self.announce:
            self.log(f"[{self.done + 1}/{self.total}] {name}: grading...")

    def finish(self, name: str, message: str) -> None:
        if name in self.running:
            self.running.remove(name)
        self.done += 1
        if self.tty:
            self._clear()
            self.log(message)
            self._draw()
        elif self.numbered:
            eta = f"  (ETA {self.eta()})" if self.done < self.total else ""
            self.log(f"[{self.done}/{self.total}] {message.strip()}{eta}")
        else:
            self.log(message)

    def note(self, message: str) -> None:
        """A line that is not an item finishing (a warning while grading)."""
        self._clear()
        self.log(message)
        self._draw()

    def close(self) -> None:
        self._clear()
