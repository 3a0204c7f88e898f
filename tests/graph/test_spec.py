"""ExecutorSpec: `.add()` keywords and YAML keys mapped onto one typed object."""

from __future__ import annotations

import pytest

from flowql import ConfigurationError
from flowql.graph import ExecutorSpec
from flowql.graph.spec import normalize_polling


def test_parallel_is_an_alias_of_shards():
    spec = ExecutorSpec.from_options({"name": "p1", "parallel": 3, "polling": "all"})
    assert spec.shards == 3
    assert spec.polling == {"*": "ALL"}


def test_needs_accepts_a_name_or_a_list():
    assert ExecutorSpec.from_options({"name": "a", "needs": "gateway"}).needs == ["gateway"]
    assert ExecutorSpec.from_options({"name": "a", "needs": ("b", "c")}).needs == ["b", "c"]


def test_unknown_keyword_suggests_the_close_one():
    with pytest.raises(ConfigurationError, match="did you mean 'replicas'"):
        ExecutorSpec.from_options({"name": "a", "replica": 2})


def test_alias_and_name_together_are_refused():
    with pytest.raises(ConfigurationError, match="given twice"):
        ExecutorSpec.from_options({"name": "a", "parallel": 2, "shards": 2})


@pytest.mark.parametrize("key", ["replicas", "shards"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_bad_replicas_and_shards_are_refused(key, value):
    with pytest.raises(ConfigurationError, match=f"{key}= must be a whole number >= 1"):
        ExecutorSpec.from_options({"name": "a", key: value})


@pytest.mark.parametrize("polling", ["SOME", {"/search": "EVERY"}, 3, {}])
def test_bad_polling_names_the_choices(polling):
    with pytest.raises(ConfigurationError, match="ANY"):
        ExecutorSpec.from_options({"name": "a", "polling": polling})


def test_polling_per_endpoint_keeps_a_default():
    assert normalize_polling({"/search": "all_async"}, "x") == {"/search": "ALL_ASYNC", "*": "ANY"}
    assert normalize_polling({"/index": "ALL", "*": "ALL_ASYNC"}, "x") == {"/index": "ALL", "*": "ALL_ASYNC"}


@pytest.mark.parametrize("name", ["gateway", "end", "", None])
def test_reserved_or_empty_names_are_refused(name):
    with pytest.raises(ConfigurationError):
        ExecutorSpec.from_options({"name": name})


def test_a_fixed_port_for_several_processes_is_refused():
    with pytest.raises(ConfigurationError, match="drop port="):
        ExecutorSpec.from_options({"name": "a", "port": 5000, "replicas": 2})


def test_external_executor_needs_a_port_and_lists_its_replicas():
    with pytest.raises(ConfigurationError, match="external=True needs host= and port="):
        ExecutorSpec.from_options({"name": "a", "external": True, "host": "10.0.0.1"})
    spec = ExecutorSpec.from_options({"name": "a", "external": True, "host": ["h1", "h2"], "port": 7000})
    assert spec.external_addresses() == ["h1:7000", "h2:7000"]


def test_when_must_be_a_query_dict():
    with pytest.raises(ConfigurationError, match="query dict"):
        ExecutorSpec.from_options({"name": "a", "when": "tags.x == 1"})
    assert ExecutorSpec.from_options({"name": "a", "when": {"tags__x": {"$eq": 1}}}).when == {"tags__x": {"$eq": 1}}


@pytest.mark.parametrize("condition", [{"tags__x": {"$bogus": 1}}, {"text": "x"}, {"$and": 3}])
def test_when_must_be_valid_query_language(condition):
    with pytest.raises(ConfigurationError, match="is not a docarray query"):
        ExecutorSpec.from_options({"name": "a", "when": condition})


def test_bad_uses_type_is_refused():
    with pytest.raises(ConfigurationError, match="uses= takes"):
        ExecutorSpec.from_options({"name": "a", "uses": 42})


def test_to_options_leaves_defaults_out_but_keeps_needs():
    spec = ExecutorSpec.from_options({"name": "a", "needs": "gateway", "replicas": 2, "env": {"X": 1}})
    assert spec.to_options("Upper") == {
        "name": "a",
        "uses": "Upper",
        "needs": ["gateway"],
        "replicas": 2,
        "env": {"X": "1"},
    }


def test_uses_with_must_be_json():
    with pytest.raises(ConfigurationError, match="uses_with= must hold JSON values"):
        ExecutorSpec.from_options({"name": "a", "uses_with": {"model": object()}})
