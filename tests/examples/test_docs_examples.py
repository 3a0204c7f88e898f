"""The docs' runnable examples: every `examples/docs/*.py` runs and exits 0, and the docs quote them verbatim.

A docs page quotes an example as a fenced python block right after a marker line
`<!-- example: examples/docs/NAME.py -->`; the block must equal the file, so the page can never show
code that the test did not run.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

EXAMPLES = sorted((REPO_ROOT / "examples" / "docs").glob("*.py"))
DOC_PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
QUOTE = re.compile(r"<!-- example: (?P<path>[^ ]+) -->\n```python\n(?P<code>.*?)```", re.DOTALL)


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_script_runs_and_exits_0(script: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    # Each example starts its own processes when it needs any (a Flow, a gateway) and stops them.
    done = subprocess.run(
        [sys.executable, str(script)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=50
    )
    assert done.returncode == 0, f"{script.name} exited {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    check_output = OUTPUT_CHECKS.get(script.name)
    if check_output is not None:
        check_output(done.stdout)


def _quickstart_prints_what_its_comments_say(stdout: str) -> None:
    # The README's first example only prints (its comments say what); the other examples assert.
    upper, abc, *events = stdout.splitlines()
    assert upper == "['HELLO']"
    assert abc == "ABC"
    parsed = [ast.literal_eval(line)["data"]["docs"] for line in events]
    assert [event["progress"] for event in parsed] == [{"done": 1, "total": 2}, {"done": 2, "total": 2}]
    assert sorted(doc["text"] for event in parsed for doc in event["docs"]) == ["A", "B"]


OUTPUT_CHECKS: dict[str, Callable[[str], None]] = {"quickstart.py": _quickstart_prints_what_its_comments_say}


def test_every_quoted_example_equals_its_file_and_every_example_is_quoted() -> None:
    quoted: set[str] = set()
    for page in DOC_PAGES:
        for match in QUOTE.finditer(page.read_text()):
            path = REPO_ROOT / match["path"]
            assert path.is_file(), f"{page.name} quotes {match['path']}, which does not exist"
            assert match["code"] == path.read_text(), f"{page.name}: the quote of {match['path']} is out of date"
            quoted.add(match["path"])
    unquoted = {str(p.relative_to(REPO_ROOT)) for p in EXAMPLES} - quoted
    assert not unquoted, f"examples no docs page shows: {sorted(unquoted)}"
