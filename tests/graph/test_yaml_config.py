"""Flow YAML: load_config from a file or a string, save_config, and the round trip between them."""

from __future__ import annotations

import httpx
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


def test_relative_gateway_paths_under_with_are_taken_from_the_yaml_folder(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "web").mkdir(parents=True)
    (tmp_path / "flow.yml").write_text(
        "jtype: Flow\nwith:\n  static_dir: project/web\n  ssl_certfile: certs/c.pem\n  ssl_keyfile: /abs/k.pem\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    gateway = Flow.load_config(str(tmp_path / "flow.yml")).plan.settings.gateway
    assert gateway.static_dir == str(project / "web")
    # Taken from the YAML's folder even before the file exists there (certificates made later).
    assert gateway.ssl_certfile == str(tmp_path / "certs" / "c.pem")
    assert gateway.ssl_keyfile == "/abs/k.pem"


def test_gateway_paths_in_a_yaml_string_stay_as_written():
    gateway = Flow.load_config("jtype: Flow\nwith:\n  static_dir: web\n").plan.settings.gateway
    assert gateway.static_dir == "web"


def test_a_yaml_static_dir_is_served_from_any_working_directory(tmp_path, monkeypatch):
    (tmp_path / "site" / "web").mkdir(parents=True)
    (tmp_path / "site" / "web" / "index.html").write_text("<h1>served from the yaml folder</h1>")
    (tmp_path / "site" / "flow.yml").write_text(
        "jtype: Flow\nwith:\n  host: 127.0.0.1\n  protocol: http\n  static_dir: web\nexecutors:\n  - name: a\n"
    )
    monkeypatch.chdir(tmp_path)
    with Flow.load_config("site/flow.yml") as f:
        page = httpx.get(f"http://127.0.0.1:{f.port}/", timeout=10)
    assert page.status_code == 200
    assert "served from the yaml folder" in page.text


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


def test_saved_gateway_paths_keep_pointing_at_the_same_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    Flow(static_dir="web").add(name="a").save_config(tmp_path / "out" / "flow.yml")
    loaded = Flow.load_config(str(tmp_path / "out" / "flow.yml"))
    assert loaded.plan.settings.gateway.static_dir == str(tmp_path / "web")
