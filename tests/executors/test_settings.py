"""WorkerSettings: argv round trip and validation."""

from __future__ import annotations

import pytest

from flowql.executors.settings import WorkerSettings


def test_defaults_round_trip_to_empty_argv() -> None:
    assert WorkerSettings().to_argv() == []
    assert WorkerSettings.from_argv([]) == WorkerSettings()


def test_every_field_round_trips_exactly() -> None:
    settings = WorkerSettings(
        name="enc",
        uses="jtype: MyExecutor\nwith:\n  bar: -1\n",
        uses_with={"bar": 1, "nested": {"x": [1, 2.5, None, True]}, "text": "--not-a-flag"},
        uses_metas={"name": "m", "py_modules": ["a.py"]},
        uses_requests={"/a": "foo"},
        py_modules=["one.py", "-dash.py", "two.py"],
        host="0.0.0.0",
        port=5555,
        shard_id=1,
        shards=3,
        replica_id=2,
        replicas=4,
        workspace="/tmp/ws",
        grace=0.25,
    )
    argv = settings.to_argv()
    assert WorkerSettings.from_argv(argv) == settings
    assert all(arg.startswith("--") for arg in argv)


def test_cli_spellings_parse() -> None:
    settings = WorkerSettings.from_argv(
        ["--uses", "Upper", "--py-modules", "a.py", "b.py", "--py-modules", "c.py", "--uses-with", '{"s": "!"}']
    )
    assert settings.py_modules == ["a.py", "b.py", "c.py"]
    assert settings.uses_with == {"s": "!"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--shard-id", "2", "--shards", "2"],
        ["--replica-id", "1"],
        ["--port", "70000"],
        ["--uses-with", "[1, 2]"],
        ["--uses-with", "{not json"],
        ["--grace", "-1"],
    ],
)
def test_invalid_arguments_exit_with_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        WorkerSettings.from_argv(argv)
    assert raised.value.code == 2
    assert "flowql executor" in capsys.readouterr().err


def test_runtime_args_carry_placement() -> None:
    runtime = WorkerSettings(name="x", shard_id=1, shards=2, replica_id=0, replicas=3, workspace="w").runtime_args()
    assert (runtime.name, runtime.shard_id, runtime.shards, runtime.replicas, runtime.workspace) == ("x", 1, 2, 3, "w")
