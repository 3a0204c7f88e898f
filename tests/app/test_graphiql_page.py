"""GraphiQL from the gateway alone: the page names only assets the gateway serves, and serves them
as npm published them (their integrity hashes hold)."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from strawberry.http.ides import get_graphql_ide_html

from flowql.app.graphiql_page import ASSETS_DIR, ASSETS_PATH, VENDORED_ASSETS, local_graphiql_html
from flowql.app.settings import GatewaySettings
from tests.app.asgi_harness import in_process
from tests.app.fake_streamer import FakeExecutor, FakeStreamer


class _AssetLinks(HTMLParser):
    """(url, integrity) of every <script src> and <link href> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href") if tag == "link" else None
        if url and not url.startswith("data:"):
            self.assets.append((url, found.get("integrity")))


def _asset_links(html: str) -> list[tuple[str, str | None]]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.assets


def _sri_sha384(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_graphiql_page_references_only_local_assets_and_each_is_served() -> None:
    async with in_process(FakeStreamer([FakeExecutor("none", [])]), GatewaySettings(title="Demo")) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assets = _asset_links(page.text)
        served = {url: await client.get(url) for url, _ in assets}
    assert page.status_code == 200
    assert "<title>Demo · GraphiQL</title>" in page.text
    assert "unpkg.com" not in page.text
    assert sorted(url for url, _ in assets) == sorted(f"{ASSETS_PATH}/{name}" for _, name in VENDORED_ASSETS)
    for url, integrity in assets:
        response = served[url]
        assert response.status_code == 200, url
        kind = "text/css" if url.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], url
        # Byte for byte npm's file: the page's subresource-integrity hash still matches.
        assert integrity == _sri_sha384(response.content), url


def test_every_unpkg_url_of_strawberrys_page_is_vendored() -> None:
    # Fails when a strawberry upgrade moves its page to other versions: see static/graphiql/README.md.
    original = get_graphql_ide_html("graphiql")
    unpkg_urls = set(re.findall(r'https://unpkg\.com/[^"\s]+', original))
    assert unpkg_urls == {url for url, _ in VENDORED_ASSETS}
    assert "unpkg.com" not in local_graphiql_html(original)


def test_the_vendored_folder_holds_each_asset_with_licenses_and_a_readme() -> None:
    names = {path.name for path in ASSETS_DIR.iterdir()}
    assert {name for _, name in VENDORED_ASSETS} <= names
    assert {"README.md", "LICENSE.react.txt", "LICENSE.graphiql.txt", "LICENSE.js-cookie.txt"} <= names
    readme = (ASSETS_DIR / "README.md").read_text()
    assert all(name in readme for _, name in VENDORED_ASSETS)
