"""The documentation pages (project/docs.py), Swagger UI at /api/docs/ and ReDoc at /api/redoc/:
they name no other origin, every file they name is served by this site (WhiteNoise, through the
whole middleware stack as under gunicorn), and their Content-Security-Policy names no other origin
and runs no inline script. tests/e2e/test_api_docs.py loads them in a browser."""

from html.parser import HTMLParser

import pytest

PAGES = ["/api/docs/", "/api/redoc/"]
# What a source of the policy may be besides a quoted keyword ('self', 'none', a nonce...): content
# made by the page itself, never a host.
LOCAL_SCHEMES = {"data:", "blob:"}


class Markup(HTMLParser):
    """The URLs a page names, its script tags and its style tags."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict] = []
        self.styles: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.urls += [named[name] for name in ("src", "href", "spec-url") if named.get(name)]
        if tag == "script":
            self.scripts.append(named)
        elif tag == "style":
            self.styles.append(named)


def body(response) -> bytes:
    if response.streaming:
        content = b"".join(response.streaming_content)
        response.close()
        return content
    return response.content


def policy(response) -> dict[str, list[str]]:
    directives = (directive.split() for directive in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives}


@pytest.fixture
def page(api):
    def get(path: str) -> tuple[object, Markup]:
        response = api.get(path)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/html")
        return response, Markup(response.content.decode())

    return get


@pytest.mark.parametrize("path", PAGES)
def test_a_docs_page_names_no_other_origin(page, path):
    response, markup = page(path)

    assert b"http://" not in response.content
    assert b"https://" not in response.content
    assert markup.urls
    elsewhere = [url for url in markup.urls if not url.startswith("/") or url.startswith("//")]
    assert elsewhere == []


@pytest.mark.parametrize("path", PAGES)
def test_every_file_a_docs_page_names_is_served_here(api, page, path):
    _, markup = page(path)

    for url in markup.urls:
        response = api.get(url)
        assert response.status_code == 200, url
        assert body(response), url


def test_swagger_ui_and_redoc_come_from_the_sidecar_package(page):
    swagger = page("/api/docs/")[1].urls
    redoc = page("/api/redoc/")[1].urls

    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"):
        assert f"/static/drf_spectacular_sidecar/swagger-ui-dist/{name}" in swagger
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in redoc


@pytest.mark.parametrize("path", PAGES)
def test_a_docs_page_has_no_inline_script(page, path):
    _, markup = page(path)

    assert markup.scripts
    assert [script for script in markup.scripts if not script.get("src")] == []


def test_swagger_ui_init_script_is_served_as_javascript_from_this_site(api, page):
    [script_url] = [script["src"] for script in page("/api/docs/")[1].scripts if "?script" in script.get("src", "")]

    response = api.get(script_url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in response.content
    assert b'url: "/api/schema/"' in response.content


@pytest.mark.parametrize("path", PAGES)
def test_a_docs_page_policy_names_no_other_origin_and_runs_no_inline_script(page, path):
    response, _ = page(path)

    directives = policy(response)

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    hosts = [
        source
        for sources in directives.values()
        for source in sources
        if not (source.startswith("'") and source.endswith("'")) and source not in LOCAL_SCHEMES
    ]
    assert hosts == []


def test_swagger_ui_inline_style_carries_a_nonce_fresh_for_each_answer(page):
    nonces = []
    for _ in range(2):
        response, markup = page("/api/docs/")
        [style] = markup.styles
        assert policy(response)["style-src"] == ["'self'", f"'nonce-{style['nonce']}'"]
        nonces.append(style["nonce"])

    assert len(nonces[0]) >= 16
    assert nonces[0] != nonces[1]


def test_redoc_allows_inline_styles_but_no_inline_script(page):
    response, _ = page("/api/redoc/")

    # ReDoc writes its styles into the page at run time (see project/docs.py).
    assert policy(response)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy(response)["script-src"] == ["'self'"]


def test_docs_pages_are_not_operations_of_the_schema(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    assert "/api/docs/" not in paths
    assert "/api/redoc/" not in paths
