"""PNG plots of the scaling curves (matplotlib, headless): one idea per plot, axes with units."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from benchmarks.harness import HERE  # noqa: E402

RESULTS = HERE / "results"
_THOUSANDS = FuncFormatter(lambda value, _: f"{value:,.0f}")


def _save(fig: plt.Figure, name: str) -> None:
    fig.tight_layout()
    fig.savefig(RESULTS / f"{name}.png", dpi=110)
    plt.close(fig)
    print(f"  wrote benchmarks/results/{name}.png", flush=True)


def line(
    name: str,
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    log_y: bool = False,
    ideal: float | None = None,
) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, values in series.items():
        ax.plot(x, values, marker="o", label=label)
    if ideal is not None:
        ax.plot(x, [ideal * value for value in x], linestyle="--", color="grey", label="linear scaling")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_xticks(list(x))
    if log_y:
        ax.set_yscale("log")
        # Plain numbers (1, 2, 5, 10, 20 ...) rather than powers of ten: latencies read in ms.
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    else:
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.grid(True, alpha=0.3)
    ax.legend()
    _save(fig, name)


def size_plot(sizes: Sequence[int], docs_per_s: Sequence[float], mb_per_s: Sequence[float]) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(sizes, mb_per_s, marker="o", color="tab:blue")
    ax.set_xscale("log")
    ax.set(
        xlabel="document size (blob bytes, log scale)",
        ylabel="payload throughput (MB/s)",
        title="Payload throughput vs. document size (gRPC, 1 no-op executor)",
    )
    for size, docs, mb in zip(sizes, docs_per_s, mb_per_s, strict=True):
        ax.annotate(
            f"{docs:,.0f} docs/s", (size, mb), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8
        )
    ax.set_ylim(bottom=0, top=max(mb_per_s) * 1.2)
    ax.grid(True, alpha=0.3)
    _save(fig, "doc_size")


def clients_plot(clients: Sequence[int], docs_per_s: Sequence[float], p99_ms: Sequence[float]) -> None:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(clients, docs_per_s, marker="o")
    top.set(ylabel="throughput (documents/s)", title="Concurrent clients (gRPC, request_size 10, 1 no-op executor)")
    top.set_ylim(bottom=0)
    top.yaxis.set_major_formatter(_THOUSANDS)
    bottom.plot(clients, p99_ms, marker="o", color="tab:red")
    bottom.set(xlabel="concurrent clients (log scale)", ylabel="p99 request latency (ms)")
    bottom.set_xscale("log", base=2)
    bottom.set_xticks(list(clients), [str(c) for c in clients])
    bottom.set_ylim(bottom=0)
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
    _save(fig, "clients")
