"""The example page in a real headless Chromium with no gateway behind it: it loads, and says so plainly.

Served by a plain static file server, the page is pointed (`?graphql=`) at a loopback port where
nothing listens; every action must end in an error message a person can act on, never a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REPO_ROOT

WEB_DIR = REPO_ROOT / "examples" / "web"


def _open_page(chromium: WebDriver, static_site: Callable[[Path], str], free_port: Callable[[], int]) -> str:
    dead_gateway = f"http://127.0.0.1:{free_port()}/graphql"
    chromium.get(static_site(WEB_DIR) + f"index.html?graphql={dead_gateway}")
    WebDriverWait(chromium, 10).until(lambda d: d.find_element(By.ID, "endpoint").text == dead_gateway)
    return dead_gateway


def _visible_error(chromium: WebDriver, element_id: str) -> str:
    def shown(driver: WebDriver) -> str | bool:
        element = driver.find_element(By.ID, element_id)
        return element.text if element.is_displayed() and element.text else False

    return str(WebDriverWait(chromium, 15).until(shown))


def test_page_loads_with_its_three_sections_and_the_vendored_client(
    chromium: WebDriver, static_site: Callable[[Path], str], free_port: Callable[[], int]
) -> None:
    _open_page(chromium, static_site, free_port)
    titles = [h.text for h in chromium.find_elements(By.CSS_SELECTOR, "section h2")]
    assert [t.split(" · ")[1].split()[0] for t in titles] == ["Index", "Search", "Generate"]
    assert "toy" in chromium.find_element(By.ID, "generate-title").text.lower()
    assert chromium.execute_script("return typeof window.graphqlWs.createClient") == "function"
    assert not chromium.find_element(By.ID, "index-error").is_displayed()


def test_search_against_an_unreachable_gateway_says_so_in_plain_words(
    chromium: WebDriver, static_site: Callable[[Path], str], free_port: Callable[[], int]
) -> None:
    dead_gateway = _open_page(chromium, static_site, free_port)
    chromium.find_element(By.ID, "search-button").click()
    message = _visible_error(chromium, "search-error")
    assert message == f"Cannot reach the flowql gateway at {dead_gateway}. Is it running?"
    assert chromium.find_elements(By.CSS_SELECTOR, "#search-results li") == []


def test_generate_against_an_unreachable_gateway_says_so_and_re_enables_the_button(
    chromium: WebDriver, static_site: Callable[[Path], str], free_port: Callable[[], int]
) -> None:
    _open_page(chromium, static_site, free_port)
    chromium.find_element(By.ID, "generate-button").click()
    message = _visible_error(chromium, "generate-error")
    assert "flowql gateway" in message and "Is it running?" in message
    output = chromium.find_element(By.ID, "generate-output")
    assert output.get_attribute("data-state") == "error"
    assert chromium.find_element(By.ID, "generate-button").is_enabled()


def test_empty_input_is_refused_before_anything_is_sent(
    chromium: WebDriver, static_site: Callable[[Path], str], free_port: Callable[[], int]
) -> None:
    _open_page(chromium, static_site, free_port)
    # The fields are `required`; clear one and submit through script to bypass the browser's own tooltip.
    chromium.find_element(By.ID, "index-text").clear()
    chromium.execute_script(
        "document.getElementById('index-form').dispatchEvent(new Event('submit', {cancelable: true}))"
    )
    assert _visible_error(chromium, "index-error") == "Type or paste some text to index first."
