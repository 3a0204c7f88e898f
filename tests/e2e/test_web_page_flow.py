"""The example application end to end: its Flow (real processes) and its web page in headless Chromium.

The screenshots are saved as test artifacts and, once every assertion of the test passed, copied
to docs/images/ for the README.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningExample, publish_screenshot

SECOND_TEXT = (
    "A WebSocket stays open, so the server can push each event as soon as it is ready. "
    "HTTP/2 multiplexes many streams over one connection. "
    "A toy generator is not a language model."
)


# ---- page helpers -------------------------------------------------------------------------------------


def _fill(driver: WebDriver, element_id: str, text: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)


def _wait_text(driver: WebDriver, element_id: str, predicate: Any, timeout: float = 20) -> str:
    def check(d: WebDriver) -> str | bool:
        text = d.find_element(By.ID, element_id).text
        return text if predicate(text) else False

    return str(WebDriverWait(driver, timeout).until(check))


def _no_error_shown(driver: WebDriver, element_id: str) -> None:
    error = driver.find_element(By.ID, element_id)
    assert not error.is_displayed(), f"#{element_id} shows: {error.text}"


def _search(driver: WebDriver, query: str, top_k: int) -> list[tuple[float, str, str]]:
    _fill(driver, "search-text", query)
    _fill(driver, "search-topk", str(top_k))
    driver.find_element(By.ID, "search-button").click()
    _wait_text(driver, "search-status", lambda t: "match" in t)
    _no_error_shown(driver, "search-error")
    rows = []
    for item in driver.find_elements(By.CSS_SELECTOR, "#search-results li"):
        score = float(item.find_element(By.CSS_SELECTOR, ".score").text)
        text = item.find_element(By.CSS_SELECTOR, ".match-text").text
        sources = item.find_elements(By.CSS_SELECTOR, ".source")
        rows.append((score, text, sources[0].text if sources else ""))
    return rows


def _index(driver: WebDriver, text: str, uri: str) -> str:
    _fill(driver, "index-text", text)
    _fill(driver, "index-uri", uri)
    driver.find_element(By.ID, "index-button").click()
    status = _wait_text(driver, "index-status", lambda t: t.startswith("Indexed"))
    _no_error_shown(driver, "index-error")
    return status


def _generation(driver: WebDriver) -> tuple[str, int, str]:
    output = driver.find_element(By.ID, "generate-output")
    return str(output.get_attribute("data-state")), int(output.get_attribute("data-tokens") or 0), output.text


# ---- tests --------------------------------------------------------------------------------------------


def test_page_indexes_searches_and_streams_a_generation(
    chromium: WebDriver, example_flow: RunningExample, artifacts_dir: Path
) -> None:
    chromium.get(example_flow.http + "/")
    WebDriverWait(chromium, 10).until(lambda d: d.find_element(By.ID, "endpoint").text.endswith("/graphql"))

    first_text = chromium.find_element(By.ID, "index-text").get_attribute("value") or ""
    assert _index(chromium, first_text, "example notes") == "Indexed 5 sentences."
    # /index goes to one shard at a time: a second text, so that both shards may hold a part.
    assert _index(chromium, SECOND_TEXT, "second notes") == "Indexed 3 sentences."

    # Asking for every sentence shows that both shards answered and the ranker merged them, best first.
    everything = _search(chromium, "streaming events from the server", 8)
    assert len(everything) == 8
    assert {source for _, _, source in everything} == {"example notes", "second notes"}
    scores = [score for score, _, _ in everything]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= score <= 1.0 for score in scores)

    best = _search(chromium, "streaming events from the server", 3)
    assert [row[1] for row in best] == [row[1] for row in everything[:3]]
    assert "event" in best[0][1]
    chromium.save_screenshot(str(artifacts_dir / "web-page-search.png"))

    # Generation: the toy reply to this prompt is 27 tokens, one every 80 ms; the page must show some
    # before the last one exists.
    _fill(chromium, "generate-prompt", "tell me about flowql streaming")
    chromium.find_element(By.ID, "generate-button").click()
    started = time.monotonic()
    WebDriverWait(chromium, 15, poll_frequency=0.02).until(
        lambda d: _generation(d)[0] == "streaming" and _generation(d)[1] >= 12
    )
    first_seen_after = time.monotonic() - started
    shot = artifacts_dir / "web-page-search-and-streaming.png"
    chromium.save_screenshot(str(shot))
    state_after_shot, tokens_at_shot, partial_text = _generation(chromium)
    assert state_after_shot == "streaming", "the screenshot should show a generation still running"
    assert 12 <= tokens_at_shot < 27
    assert partial_text.startswith("This is a toy")

    WebDriverWait(chromium, 20, poll_frequency=0.05).until(lambda d: _generation(d)[0] != "streaming")
    total_time = time.monotonic() - started
    state, tokens, text = _generation(chromium)
    _no_error_shown(chromium, "generate-error")
    assert (state, tokens) == ("done", 27)
    assert text.startswith(partial_text.rstrip())
    assert text.startswith("This is a toy generator, not a model. You wrote: tell me about flowql streaming")
    assert text.strip().endswith("— and backwards: streaming flowql about me tell — that is all.")
    # Tokens arrived spread over the run (not in one burst at the end): the twelfth well before the last.
    assert first_seen_after < total_time - 0.5
    assert chromium.find_element(By.ID, "generate-status").text.startswith("Done: 27 tokens")

    publish_screenshot(shot, "web-page.png")


def test_page_shows_a_failing_executor_in_plain_words(chromium: WebDriver, example_flow: RunningExample) -> None:
    chromium.get(example_flow.http + "/")
    WebDriverWait(chromium, 10).until(lambda d: d.find_element(By.ID, "endpoint").text.endswith("/graphql"))
    # top_k 0 is refused by the executors; the form's own `min` check is bypassed to reach them.
    chromium.execute_script("document.getElementById('search-topk').removeAttribute('min')")
    _fill(chromium, "search-topk", "0")
    chromium.find_element(By.ID, "search-button").click()

    def error_text(d: WebDriver) -> str | bool:
        element = d.find_element(By.ID, "search-error")
        return element.text if element.is_displayed() and element.text else False

    message = str(WebDriverWait(chromium, 15).until(error_text))
    assert "top_k must be a whole number from 1 to 100, got 0" in message
    assert 'The "indexer" step failed' in message or 'The "ranker" step failed' in message
    assert "Traceback" not in message


def test_stop_ends_a_generation_and_the_next_one_starts_clean(
    chromium: WebDriver, example_flow: RunningExample
) -> None:
    chromium.get(example_flow.http + "/")
    WebDriverWait(chromium, 10).until(lambda d: d.find_element(By.ID, "endpoint").text.endswith("/graphql"))
    _fill(chromium, "generate-prompt", "first prompt")
    chromium.find_element(By.ID, "generate-button").click()
    WebDriverWait(chromium, 15, poll_frequency=0.02).until(lambda d: _generation(d)[1] >= 3)
    chromium.find_element(By.ID, "generate-stop").click()
    state, stopped_at, _ = _generation(chromium)
    assert state == "stopped" and stopped_at < 23  # the whole reply to "first prompt" is 23 tokens
    assert chromium.find_element(By.ID, "generate-button").is_enabled()

    # A new generation right away: only its own tokens appear, none left over from the stopped one.
    _fill(chromium, "generate-prompt", "second")
    chromium.find_element(By.ID, "generate-button").click()
    WebDriverWait(chromium, 20, poll_frequency=0.05).until(lambda d: _generation(d)[0] == "done")
    _, tokens, text = _generation(chromium)
    assert (
        text.strip() == "This is a toy generator, not a model. You wrote: second — and backwards: second — that is all."
    )
    assert tokens == 19
    _no_error_shown(chromium, "generate-error")


def test_page_says_plainly_when_an_executor_is_down(chromium: WebDriver, example_flow: RunningExample) -> None:
    # Last in this module: it kills one executor of the shared Flow.
    chromium.get(example_flow.http + "/")
    WebDriverWait(chromium, 10).until(lambda d: d.find_element(By.ID, "endpoint").text.endswith("/graphql"))
    [embedder_pid] = example_flow.flow.pids["embedder"]
    os.kill(embedder_pid, signal.SIGKILL)
    chromium.find_element(By.ID, "search-button").click()

    def error_text(d: WebDriver) -> str | bool:
        element = d.find_element(By.ID, "search-error")
        return element.text if element.is_displayed() and element.text else False

    message = str(WebDriverWait(chromium, 30).until(error_text))
    assert message == 'The "embedder" step is not reachable right now (is it running?). Try again in a moment.'
    assert "Traceback" not in message
