"""Flow.plot: SVG or PNG through graphviz's `dot`; notebooks get `_repr_svg_`."""

from __future__ import annotations

from flowql import Flow


def _flow() -> Flow:
    return (
        Flow()
        .add(name="p1", needs="gateway")
        .add(name="p2", needs="gateway", replicas=3)
        .add(name="p3", shards=2, polling="ALL")
        .add(name="log", needs="gateway", floating=True)
        .needs(["p1", "p3"], name="r1")
    )


def test_plot_writes_svg_with_every_executor(tmp_path):
    path = tmp_path / "flow.svg"
    assert _flow().plot(path).executors[-1].name == "r1"
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    for name in ("gateway", "p1", "p2", "3 replicas", "2 shards (ALL)", "log", "r1", "end"):
        assert name in svg


def test_plot_writes_png_when_asked(tmp_path):
    path = tmp_path / "flow.png"
    _flow().plot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")


def test_notebooks_get_svg():
    svg = _flow()._repr_svg_()
    assert svg is not None and "<svg" in svg
