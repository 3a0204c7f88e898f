"""Resolving `uses=` for a worker process: classes by reference when importable, by value otherwise."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowql import Document
from flowql.executors import Executor
from flowql.executors.loader import import_py_modules
from flowql.graph.uses import DEFAULT_EXECUTOR, class_reference, resolve_uses, uses_for_yaml
from tests.graph.flow_helpers import local_flow
from tests.graph.sample_executors import Upper


def test_importable_class_goes_by_reference(tmp_path):
    assert resolve_uses(Upper, tmp_path, "u").uses == "tests.graph.sample_executors:Upper"
    assert list(tmp_path.iterdir()) == []


def test_a_registered_class_name_goes_by_reference(tmp_path):
    assert resolve_uses("Upper", tmp_path, "u").uses == "tests.graph.sample_executors:Upper"


def test_unknown_names_paths_and_inline_yaml_pass_through(tmp_path):
    assert resolve_uses("NotDefinedAnywhere", tmp_path, "u").uses == "NotDefinedAnywhere"
    assert resolve_uses("jtype: Upper\nwith: {}\n", tmp_path, "u").uses == "jtype: Upper\nwith: {}\n"
    assert resolve_uses(None, tmp_path, "u").uses == DEFAULT_EXECUTOR


def test_existing_yaml_path_becomes_absolute(tmp_path, monkeypatch):
    (tmp_path / "e.yml").write_text("jtype: Upper\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_uses("e.yml", tmp_path, "u").uses == str(tmp_path / "e.yml")


def test_local_class_travels_by_value(tmp_path):
    class Local(Executor):
        marker = "by value"

    resolved = resolve_uses(Local, tmp_path, "loc")
    assert resolved.uses.startswith("pickle:")
    assert class_reference(Local) is None
    path = resolved.uses.removeprefix("pickle:")
    with open(path, "rb") as file:
        restored = pickle.load(file)
    assert restored.marker == "by value"
    assert issubclass(restored, Executor)


def test_a_dict_naming_a_known_class_keeps_its_settings(tmp_path):
    resolved = resolve_uses({"jtype": "Upper", "with": {"suffix": "!"}, "requests": {"/x": "upper"}}, tmp_path, "u")
    assert resolved.uses == "tests.graph.sample_executors:Upper"
    assert resolved.uses_with == {"suffix": "!"}
    assert resolved.uses_requests == {"/x": "upper"}


def test_a_dict_naming_an_unknown_class_becomes_inline_yaml(tmp_path):
    resolved = resolve_uses({"jtype": "Elsewhere", "with": {"bar": 123}}, tmp_path, "u")
    assert yaml.safe_load(resolved.uses) == {"jtype": "Elsewhere", "with": {"bar": 123}}


def test_yaml_spelling_of_classes():
    assert uses_for_yaml(Upper) == "tests.graph.sample_executors:Upper"

    class Local(Executor):
        pass

    assert uses_for_yaml(Local) == "Local"
    assert uses_for_yaml("x.yml") == "x.yml"


_PATH_MODULE = """\
from flowql import Executor, requests

class {name}(Executor):
    @requests
    def mark(self, docs, **kwargs):
        for doc in docs:
            doc.text = '{name} saw ' + doc.text
"""


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Importing a file by path puts its folder on sys.path: keep that to each test.
    monkeypatch.setattr(sys, "path", list(sys.path))


def _module_by_path(folder: Path, filename: str, class_name: str) -> type:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(_PATH_MODULE.format(name=class_name))
    [module] = import_py_modules([str(path)])
    cls = getattr(module, class_name)
    assert isinstance(cls, type)
    return cls


def test_a_class_from_a_file_loaded_by_path_names_that_file(tmp_path):
    # A hyphen makes the loader invent a module name that no other process can import.
    cls = _module_by_path(tmp_path / "lib", "path-shouters.py", "PathShouterA")
    assert class_reference(cls) is None
    for uses in (cls, "PathShouterA", {"jtype": "PathShouterA"}):
        resolved = resolve_uses(uses, tmp_path / "work", "u")
        assert resolved.uses == "PathShouterA"
        assert resolved.py_modules == [str(tmp_path / "lib" / "path-shouters.py")]


def test_a_module_shadowed_by_another_of_its_name_is_not_referenced_by_name(tmp_path):
    first = _module_by_path(tmp_path / "one", "twin_shouters.py", "TwinShouterOne")
    assert class_reference(first) == "twin_shouters:TwinShouterOne"
    second = _module_by_path(tmp_path / "two", "twin_shouters.py", "TwinShouterTwo")
    # The second file got an invented name, and its folder now comes first on sys.path, so that a
    # fresh `import twin_shouters` would find the second file, not the first one's classes.
    assert class_reference(first) is None
    assert class_reference(second) is None
    assert resolve_uses(first, tmp_path, "u").py_modules == [str(tmp_path / "one" / "twin_shouters.py")]
    assert resolve_uses(second, tmp_path, "u").py_modules == [str(tmp_path / "two" / "twin_shouters.py")]


def test_workers_run_a_class_the_flow_process_loaded_by_path(tmp_path):
    _module_by_path(tmp_path / "lib", "path-shouters.py", "PathShouterB")
    with local_flow().add(name="shout", uses="PathShouterB") as f:
        assert f.post("/", Document(text="hi")).texts == ["PathShouterB saw hi"]


def test_a_class_from_a_file_whose_name_was_taken_later_travels_by_value(tmp_path):
    first = _module_by_path(tmp_path / "a", "dup-a.py", "DupShouter")
    _module_by_path(tmp_path / "b", "dup-b.py", "DupShouter")
    resolved = resolve_uses(first, tmp_path, "u")
    assert resolved.uses.startswith("pickle:") and resolved.py_modules == []
    code = (
        "import cloudpickle\nfrom flowql import Document, DocumentArray\n"
        f"cls = cloudpickle.loads(open({resolved.uses.removeprefix('pickle:')!r}, 'rb').read())\n"
        "docs = DocumentArray([Document(text='x')])\ncls().mark(docs)\nprint(docs[0].text)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "DupShouter saw x"
