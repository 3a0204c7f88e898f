"""`Figure`: one benchmark figure (its runs, target and floor) and the one table they print as."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """A measured figure: its samples (one per run), its target (`>=` or `<=` a value) and,
    where one exists, the floor it is compared with (same unit, same run)."""

    name: str
    unit: str
    samples: list[float]
    target: tuple[str, float] | None = None
    floor: float | None = None
    floor_name: str = ""
    note: str = ""
    error: str = field(default="")

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def passed(self) -> bool | None:
        if self.error:
            return False
        if self.target is None:
            return None
        op, value = self.target
        return self.median >= value if op == ">=" else self.median <= value

    @property
    def ratio(self) -> float | None:
        """The figure as a fraction of its floor (for latencies: floor / figure, so 1.0 is the floor)."""
        if self.floor is None or not self.samples or self.floor == 0:
            return None
        if self.target is not None and self.target[0] == "<=":
            return self.floor / self.median
        return self.median / self.floor


def _number(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def render(figures: Sequence[Figure]) -> str:
    header = ["figure", "unit", "median", "min", "max", "target", "result", "floor", "ratio"]
    rows = [header]
    for fig in figures:
        target = f"{fig.target[0]} {_number(fig.target[1])}" if fig.target else ""
        verdict = {True: "pass", False: "FAIL", None: "-"}[fig.passed]
        rows.append(
            [
                fig.name,
                fig.unit,
                _number(fig.median),
                _number(min(fig.samples)) if fig.samples else "-",
                _number(max(fig.samples)) if fig.samples else "-",
                target,
                verdict if not fig.error else f"FAIL ({fig.error[:60]})",
                f"{_number(fig.floor)} {fig.floor_name}".strip() if fig.floor is not None else "",
                f"{fig.ratio:.2f}" if fig.ratio is not None else "",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(widths[i]) if i in (0, 1, 5, 6, 7) else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_csv(figures: Sequence[Figure], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["figure", "unit", "median", "min", "max", "runs", "target", "passed", "floor", "ratio"])
        for fig in figures:
            writer.writerow(
                [
                    fig.name,
                    fig.unit,
                    f"{fig.median:.4g}",
                    f"{min(fig.samples):.4g}" if fig.samples else "",
                    f"{max(fig.samples):.4g}" if fig.samples else "",
                    " ".join(f"{s:.4g}" for s in fig.samples),
                    f"{fig.target[0]} {fig.target[1]:g}" if fig.target else "",
                    {True: "pass", False: "fail", None: ""}[fig.passed],
                    f"{fig.floor:.4g}" if fig.floor is not None else "",
                    f"{fig.ratio:.3f}" if fig.ratio is not None else "",
                ]
            )
