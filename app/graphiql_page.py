"""GraphiQL that works offline: strawberry's page with its unpkg.com assets served by the gateway.

strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from unpkg.com, so with no
network (CI, a laptop offline) the page stays on "Loading...". The same files, byte for byte, are
vendored in `static/graphiql/` (versions and licenses in its README) and served at
`/graphiql-assets/`; `local_graphiql_html` points the page at them. The files are identical to
npm's, so the page's `integrity` hashes stay and still hold.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS_DIR", "ASSETS_PATH", "VENDORED_ASSETS", "graphiql_assets_mount", "local_graphiql_html"]

logger = logging.getLogger("flowql.gateway")

ASSETS_PATH = "/graphiql-assets"
ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"

# The unpkg URLs of strawberry's page (strawberry-graphql 0.341.2) -> the vendored file's name.
VENDORED_ASSETS: tuple[tuple[str, str], ...] = (
    ("https://unpkg.com/react@18.2.0/umd/react.production.min.js", "react.production.min.js"),
    ("https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js", "react-dom.production.min.js"),
    ("https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js", "js.cookie.min.js"),
    ("https://unpkg.com/graphiql@3.8.3/graphiql.min.css", "graphiql.min.css"),
    ("https://unpkg.com/graphiql@3.8.3/graphiql.min.js", "graphiql.min.js"),
    ("https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css", "plugin-explorer.css"),
    ("https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js", "plugin-explorer.umd.js"),
)


def local_graphiql_html(html: str, prefix: str = ASSETS_PATH) -> str:
    """`html` (strawberry's GraphiQL page) with each vendored unpkg URL replaced by `prefix/<file>`.

    Exact URLs, not the unpkg host: a strawberry release that moves to other versions must not get
    files whose integrity hashes do not match. Such a page keeps its unpkg URLs (GraphiQL then
    needs the network) and a warning says so; tests/app/test_graphiql_page.py fails on it.
    """
    for url, name in VENDORED_ASSETS:
        html = html.replace(url, f"{prefix}/{name}")
    if "https://unpkg.com/" in html:
        logger.warning(
            "strawberry's GraphiQL page references unpkg.com assets that are not vendored in %s; "
            "GraphiQL will need the network",
            ASSETS_DIR,
        )
    return html


def graphiql_assets_mount() -> Mount:
    """The route serving the vendored GraphiQL files at `ASSETS_PATH`."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR), name="graphiql-assets")
