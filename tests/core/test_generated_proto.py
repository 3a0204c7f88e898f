from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_committed_generated_code_matches_the_proto() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "generate_proto.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
