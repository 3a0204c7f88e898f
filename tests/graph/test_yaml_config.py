"""Flow YAML: load_config from a file or a string, save_config, and the round trip between them."""

from __future__ import annotations

import pytest

from flowql import AsyncFlow, ConfigurationError, Flow
from tests.graph.sample_executors import Upper


def test_load_config_from_a_string():
    f = Flow.load_config(
        """
jtype: Flow
with:
  port_expose: 12345
  protocol: grpc
executors:
  - name: myexec1
    uses: MyExecutor
  - name: p2
    parallel: 2
    polling: ALL
    needs: gateway
"""
    )
    assert f.port == 12345
    assert [(s.name, s.uses, s.needs, s.shards) for s in f.executors] == [
        ("myexec1", "MyExecutor", ["gateway"], 1),
        ("p2", None, ["gateway"], 2),
    ]


def test_save_and_load_round_trip(tmp_path):
    f = (
        Flow(protocol=["grpc", "http"], port=[5001, 5002], prefetch=7, env={"A": "1"})
        .add(name="up", uses=Upper, uses_with={"suffix": "!"}, replicas=2)
        .add(name="idx", uses={"jtype": "Upper", "with": {"suffix": "?"}}, shards=2, polling={"/search": "ALL"})
        .add(name="side", needs="gateway", floating=True, when={"tags__k": {"$eq": 1}})
        .add(name="ext", needs=["idx"], external=True, host="10.1.1.1", port=9000, no_reduce=True)
    )
    path = tmp_path / "flow.yml"
    f.save_config(path)
    loaded = Flow.load_config(str(path))
    assert loaded.executors[0].uses == "tests.graph.sample_executors:Upper"
    assert [s.uses for s in loaded.executors[1:]] == [s.uses for s in f.executors[1:]]
    assert [s.to_options(None) for s in loaded.executors] == [s.to_options(None) for s in f.executors]
    assert loaded.plan.settings == f.plan.settings
    again = tmp_path / "again.yml"
    loaded.save_config(again)
    assert again.read_text() == path.read_text()


def test_picked_ports_are_not_saved(tmp_path):
    path = tmp_path / "flow.yml"
    Flow().add(name="a").save_config(path)
    assert "port" not in path.read_text()


def test_async_flow_round_trips_as_async(tmp_path):
    path = tmp_path / "flow.yml"
    AsyncFlow().add(name="a").save_config(path)
    assert isinstance(Flow.load_config(path), AsyncFlow)


def test_relative_paths_are_taken_from_the_yaml_folder(tmp_path):
    (tmp_path / "exec.yml").write_text("jtype: Upper\n")
    (tmp_path / "mods.py").write_text("")
    (tmp_path / "flow.yml").write_text("jtype: Flow\nexecutors:\n  - uses: exec.yml\n    py_modules: mods.py\n")
    spec = Flow.load_config(str(tmp_path / "flow.yml")).executors[0]
    assert spec.uses == str(tmp_path / "exec.yml")
    assert spec.py_modules == [str(tmp_path / "mods.py")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jtype: Executor\n", "jtype: Flow"),
        ("jtype: Flow\nexecutor: []\n", "unknown top-level key"),
        ("jtype: Flow\nexecutors:\n  - name: a\n    replica: 2\n", "did you mean 'replicas'"),
        ("jtype: Flow\nexecutors:\n  - name: a\n    needs: b\n  - name: b\n    needs: gateway\n", "add 'b' first"),
        ("jtype: Flow\nwith:\n  protocol: smtp\n", "unknown protocol"),
        ("- a\n- b\n", "mapping"),
    ],
)
def test_bad_yaml_names_the_problem(text, message):
    with pytest.raises(ConfigurationError, match=message):
        Flow.load_config(text)


def test_missing_file_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="no Flow YAML file"):
        Flow.load_config("does-not-exist.yml")
