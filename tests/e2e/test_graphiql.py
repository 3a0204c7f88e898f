"""GraphiQL, served by the example's gateway at /graphql, in headless Chromium: a subscription typed into
it streams its events into the result pane.

GraphiQL's scripts come from the gateway (vendored, app/static/graphiql/): the test runs with no network.
The screenshot is saved as a test artifact and, once every assertion passed, copied to docs/images/ when
asked to (`FLOWQL_UPDATE_DOCS_IMAGES=1`, see conftest).
"""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import RunningExample, publish_screenshot


def _graphiql_query(driver: WebDriver) -> str:
    return str(
        driver.execute_script(
            "return document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
        )
    )


def test_graphiql_runs_a_subscription_and_shows_its_events(
    chromium: WebDriver, example_flow: RunningExample, artifacts_dir: Path
) -> None:
    chromium.set_window_size(1500, 1000)
    chromium.get(example_flow.http + "/graphql")
    editor = WebDriverWait(chromium, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror textarea")
    )
    # The toy reply to this prompt is 23 tokens: events with index 0 .. 22.
    query = 'subscription { generate(data: {text: "hello from GraphiQL", maxTokens: 30}) { index text } }'
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(query)
    assert _graphiql_query(chromium) == query
    # GraphiQL's own prettifier lays it out on several lines (typing newlines would pick completions).
    chromium.find_element(By.CSS_SELECTOR, "[aria-label^='Prettify query']").click()
    WebDriverWait(chromium, 10).until(lambda d: "\n" in _graphiql_query(d))
    # GraphiQL parses the editor's text after a short debounce, then stores it; only once it has
    # parsed it does it know the operation is a subscription (and send it over the WebSocket).
    WebDriverWait(chromium, 10, poll_frequency=0.05).until(
        lambda d: d.execute_script("return window.localStorage.getItem('graphiql:query')") == _graphiql_query(d)
    )
    # The schema is documented with the example's real types: the subscription streams `Token`s.
    chromium.find_element(By.CSS_SELECTOR, "[aria-label='Show Documentation Explorer']").click()
    WebDriverWait(chromium, 10).until(
        lambda d: d.find_element(By.XPATH, "//div[contains(@class,'graphiql-doc-explorer')]//a[text()='Subscription']")
    ).click()
    explorer = WebDriverWait(chromium, 10).until(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer")
            if "PromptInput" in d.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer").text
            else False
        )
    )
    assert "Token" in explorer.text and "Toy generator" in explorer.text
    editor.send_keys(Keys.CONTROL, Keys.ENTER)

    # GraphiQL shows each subscription event as it comes: watch the result pane's `index` climb.
    seen: list[int] = []

    def last_index(d: WebDriver) -> bool:
        result = d.execute_script(
            "const cm = document.querySelector('.graphiql-response .CodeMirror');"
            "return cm ? cm.CodeMirror.getValue() : ''"
        )
        for line in str(result).splitlines():
            if '"index":' in line:
                value = int(line.split(":")[1].strip().rstrip(","))
                if not seen or seen[-1] != value:
                    seen.append(value)
        if len(seen) == 4:
            d.save_screenshot(str(artifacts_dir / "graphiql-subscription.png"))
        return bool(seen) and seen[-1] == 22

    WebDriverWait(chromium, 20, poll_frequency=0.02).until(last_index)
    assert len(seen) >= 4, f"expected to watch several events arrive, saw {seen}"
    assert seen == sorted(seen)
    publish_screenshot(artifacts_dir / "graphiql-subscription.png", "graphiql.png")


def test_graphiql_http_fetcher_streams_a_subscription_it_has_not_parsed(
    chromium: WebDriver, example_flow: RunningExample
) -> None:
    # Run right after typing, before GraphiQL has parsed the editor's text, a subscription goes to
    # GraphiQL's HTTP fetcher (`Accept: application/json, multipart/mixed`), not to the WebSocket.
    # The page's own fetcher, called without the parsed document, makes that request here.
    chromium.get(example_flow.http + "/graphql")
    WebDriverWait(chromium, 20).until(lambda d: d.find_element(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror"))
    chromium.set_script_timeout(20)
    outcome = chromium.execute_async_script(
        """
        const [query, done] = arguments;
        (async () => {
          const parts = [];
          try {
            const result = await fetcher({ query }, {});
            if (!result || typeof result[Symbol.asyncIterator] !== "function") {
              return done({ parts, error: "not a stream: " + JSON.stringify(result) });
            }
            for await (const chunk of result) parts.push(...chunk);
            done({ parts, error: null });
          } catch (e) {
            done({ parts, error: String(e) });
          }
        })();
        """,
        'subscription { generate(data: {text: "hello from GraphiQL", maxTokens: 30}) { index } }',
    )
    assert outcome["error"] is None, outcome
    parts = outcome["parts"]
    indexes = [part["data"]["generate"]["index"] for part in parts if "data" in part]
    assert indexes == list(range(23))  # the toy reply to this prompt, as in the test above
    assert all(part["hasNext"] is True for part in parts if "data" in part)
    assert parts[-1] == {"hasNext": False}
