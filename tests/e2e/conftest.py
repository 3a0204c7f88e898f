"""Fixtures for the browser tests: a headless Chromium driven through Selenium, a static file server,
and the example application's Flow.

Chromium and its driver are Debian's (`scripts/install_system_deps.sh` installs them); the driver is
given by path so Selenium Manager never tries to download one.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from flowql import Flow
from tests.conftest import REPO_ROOT

FLOW_YAML = REPO_ROOT / "examples" / "textsearch" / "flow.yml"
WEB_DIR = REPO_ROOT / "examples" / "web"
DOCS_IMAGES = REPO_ROOT / "docs" / "images"
# The README's screenshots are refreshed only on request (`make screenshots`), so a test run leaves
# the working tree as it found it.
UPDATE_DOCS_IMAGES = os.environ.get("FLOWQL_UPDATE_DOCS_IMAGES") == "1"


def publish_screenshot(shot: Path, name: str) -> None:
    """Copy a screenshot that passed its test's assertions into docs/images/ when asked to."""
    if UPDATE_DOCS_IMAGES:
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / name)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Headless, and quiet: no first-run UI, no background calls home, no component or sync updates.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1100,1300",
)


@pytest.fixture
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    """A fresh headless Chromium (selenium WebDriver) with its own profile folder; quit after the test."""
    if shutil.which(CHROMIUM) is None or shutil.which(CHROMEDRIVER) is None:
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: run `bash scripts/install_system_deps.sh`")
    # Belt and braces: even if something asks Selenium Manager, it must not go online.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture
def static_site() -> Iterator[Callable[[Path], str]]:
    """Returns `serve(folder) -> base URL`: serves a folder over HTTP on a free loopback port."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class RunningExample:
    """The example Flow as the tests reach it."""

    http: str  # base URL of the gateway's HTTP listener, e.g. http://127.0.0.1:PORT
    flow: Flow


def _example_yaml_without_ports(folder: Path) -> Path:
    config: dict[str, Any] = yaml.safe_load(FLOW_YAML.read_text())
    assert config["with"]["protocol"] == ["http", "grpc"], "the example serves http then grpc"
    # With no ports given, the Flow picks free ones.
    del config["with"]["port"]
    config["with"]["static_dir"] = str(WEB_DIR)
    for executor in config["executors"]:
        executor["py_modules"] = [str(FLOW_YAML.parent / module) for module in executor["py_modules"]]
    path = folder / "flow.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def example_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningExample]:
    """The example Flow of examples/textsearch/flow.yml, loaded with the real `Flow.load_config` with only
    its ports left for the Flow to pick (and its relative paths made absolute, so the copy works from a
    temporary folder); started once per test module and stopped after it."""
    path = _example_yaml_without_ports(tmp_path_factory.mktemp("example-flow"))
    with Flow.load_config(str(path)) as flow:
        yield RunningExample(http=flow.addresses[0], flow=flow)
