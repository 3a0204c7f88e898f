"""Resolving `uses=` for a worker process: classes by reference when importable, by value otherwise."""

from __future__ import annotations

import pickle

import yaml

from flowql.executors import Executor
from flowql.graph.uses import DEFAULT_EXECUTOR, class_reference, resolve_uses, uses_for_yaml
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
