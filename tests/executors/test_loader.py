"""Resolving every form of `uses` in-process, Executor YAML, metas and runtime args."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from flowql import ConfigurationError, ExecutorLoadError
from flowql.executors import Executor, ExecutorMetas, RuntimeArgs, requests
from flowql.executors.loader import import_py_modules, load_executor, resolve_class
from tests.executors import sample_executors
from tests.executors.sample_executors import MyExecutor, Upper
from tests.executors.worker_process import SAMPLES


class Greeter(Executor):
    """Defined in the test module: registered by name as soon as the class exists."""

    def __init__(self, greeting: str = "hi") -> None:
        super().__init__()
        self.greeting = greeting
        # Reachable inside __init__ although the constructor never received them.
        self.seen_name = self.metas.name
        self.seen_shard = self.runtime_args.shard_id

    @requests(on="/greet")
    def greet(self, docs: Any, **kwargs: Any) -> None:
        pass


def test_uses_class() -> None:
    executor = load_executor(Upper, uses_with={"suffix": "?"})
    assert isinstance(executor, Upper) and executor.suffix == "?"


def test_uses_registered_name_sees_metas_and_runtime_args_in_init() -> None:
    executor = load_executor("Greeter", runtime_args=RuntimeArgs(name="g0", shard_id=1, shards=2))
    assert isinstance(executor, Greeter)
    assert (executor.seen_name, executor.seen_shard) == ("g0", 1)


def test_uses_module_colon_class_and_dotted_path() -> None:
    assert type(load_executor("tests.executors.sample_executors:Upper")) is Upper
    assert type(load_executor("tests.executors.sample_executors.Upper")) is Upper


def test_uses_dict_with_metas_and_requests() -> None:
    executor = load_executor(
        {"jtype": "MyExecutor", "with": {"bar": 5}, "metas": {"name": "five"}, "requests": {"/x": "foo"}}
    )
    assert isinstance(executor, MyExecutor)
    assert (executor.bar, executor.metas.name, executor.requests_overrides) == (5, "five", {"/x": "foo"})


def test_uses_overrides_win_over_yaml(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("jtype: MyExecutor\nwith: {bar: 1}\nmetas: {name: a, description: d}\nrequests: {/a: foo}\n")
    executor = load_executor(str(path), uses_with={"bar": 2}, uses_metas={"name": "b"}, uses_requests={"/b": "foo"})
    assert isinstance(executor, MyExecutor)
    assert (executor.bar, executor.metas.name, executor.metas.description) == (2, "b", "d")
    assert executor.requests_overrides == {"/a": "foo", "/b": "foo"}


def test_inline_yaml_with_env_substitution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWQL_TEST_BAR", "42")
    monkeypatch.setenv("FLOWQL_TEST_NAME", "env")
    inline = "jtype: MyExecutor\nwith:\n  bar: ${{ ENV.FLOWQL_TEST_BAR }}\n"
    executor = load_executor(inline + "metas:\n  name: x-${{ ENV.FLOWQL_TEST_NAME }}\n")
    assert isinstance(executor, MyExecutor)
    assert (executor.bar, executor.metas.name) == (42, "x-env")


def test_top_level_py_modules_join_metas(tmp_path: Path) -> None:
    (tmp_path / "top_execs_for_loader_test.py").write_text(
        "from flowql.executors import Executor\nclass TopLevelOne(Executor):\n    pass\n"
    )
    executor = load_executor({"jtype": "TopLevelOne", "py_modules": str(tmp_path / "top_execs_for_loader_test.py")})
    assert type(executor).__name__ == "TopLevelOne"
    assert executor.logger.name == "flowql.executor.TopLevelOne"


def test_missing_env_variable_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="FLOWQL_TEST_UNSET_VAR"):
        load_executor("jtype: MyExecutor\nwith: {bar: '${{ ENV.FLOWQL_TEST_UNSET_VAR }}'}")


def test_pickled_class(tmp_path: Path) -> None:
    class Local(Executor):
        @requests
        def anything(self, **kwargs: Any) -> None:
            pass

    path = tmp_path / "local.pkl"
    path.write_bytes(cloudpickle.dumps(Local))
    executor = load_executor(f"pickle:{path}")
    assert type(executor).__name__ == "Local"


def test_py_modules_imported_by_path_once(tmp_path: Path) -> None:
    module_file = tmp_path / "extra_execs_for_loader_test.py"
    module_file.write_text(
        "from flowql.executors import Executor\nCOUNT = []\nCOUNT.append(1)\nclass FromPyModule(Executor):\n    pass\n"
    )
    executor = load_executor("FromPyModule", py_modules=[str(module_file)])
    assert type(executor).__name__ == "FromPyModule"
    [again] = import_py_modules([str(module_file)])
    assert again.COUNT == [1]


def test_yaml_py_modules_are_relative_to_the_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "rel_execs_for_loader_test.py").write_text(
        "from flowql.executors import Executor\nclass RelativeOne(Executor):\n    pass\n"
    )
    (tmp_path / "e.yml").write_text("jtype: RelativeOne\nmetas:\n  py_modules:\n    - rel_execs_for_loader_test.py\n")
    executor = load_executor(str(tmp_path / "e.yml"))
    assert type(executor).__name__ == "RelativeOne"
    assert executor.metas.py_modules == ["rel_execs_for_loader_test.py"]


@pytest.mark.parametrize(
    ("uses", "error", "match"),
    [
        ("NoSuchClassAnywhere", ExecutorLoadError, "no Executor class named 'NoSuchClassAnywhere'"),
        ("tests.executors.sample_executors:GATE_WAIT_S", ExecutorLoadError, "not an Executor subclass"),
        ("not_a_module_xyz:Thing", ModuleNotFoundError, "not_a_module_xyz"),
        ({"jtype": "Upper", "wiht": {}}, ConfigurationError, "unknown Executor config key"),
        ({"jtype": "Upper", "metas": {"nmae": "x"}}, ConfigurationError, "unknown metas key"),
        ("jtype: [unclosed", ConfigurationError, "invalid Executor YAML"),
        (42, ExecutorLoadError, "must be an Executor class"),
    ],
)
def test_bad_uses_raise_clear_errors(uses: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        load_executor(uses, py_modules=[SAMPLES])


def test_missing_py_module_file_is_reported() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_file.py"):
        load_executor("Upper", py_modules=["no_such_file.py"])


def test_constructor_errors_propagate_unchanged() -> None:
    with pytest.raises(ValueError, match="bad init on purpose"):
        load_executor(sample_executors.BadInit)


def test_resolve_class_base_executor() -> None:
    assert resolve_class("Executor") is Executor


def test_executor_built_by_hand_has_defaults(tmp_path: Path) -> None:
    executor = Upper(suffix="!", metas={"workspace": str(tmp_path)})
    assert executor.metas == ExecutorMetas(name="Upper", workspace=str(tmp_path))
    assert executor.runtime_args == RuntimeArgs()
    assert executor.workspace == str(tmp_path / "Upper")
    assert Path(executor.workspace).is_dir()


def test_sharded_workspace_is_per_shard(tmp_path: Path) -> None:
    executor = Upper.create(runtime_args=RuntimeArgs(name="idx", shard_id=1, shards=2, workspace=str(tmp_path)))
    assert executor.workspace == str(tmp_path / "idx" / "1")
