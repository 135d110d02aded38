"""The pages people read, in headless Chromium: they render, work, and stay on localhost."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from support import Backend, LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Visit:
    """A page in a fresh context that records every request and console message."""

    def __init__(self, browser: Browser, server: LiveServer, lang: str = "de") -> None:
        self.context = browser.new_context(locale=lang, viewport={"width": 1200, "height": 900})
        self.page: Page = self.context.new_page()
        self.hosts: set[str] = set()
        self.problems: list[str] = []
        self.page.on(
            "request", lambda request: self.hosts.add(urlsplit(request.url).hostname or "")
        )
        self.page.on(
            "console",
            lambda message: self.problems.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.server = server

    def open(self, path: str) -> Page:
        response = self.page.goto(self.server.url + path)
        assert response is not None and response.status == 200, path
        return self.page

    def close(self) -> None:
        self.context.close()
        assert self.problems == []
        assert self.hosts <= {"127.0.0.1"}, self.hosts


@pytest.fixture
def visit(browser: Browser, server: LiveServer) -> Iterator[Visit]:
    visit = Visit(browser, server)
    yield visit
    visit.close()


def test_home_page_renders_with_its_pictures(visit: Visit) -> None:
    page = visit.open("/")
    assert page.locator("h1").inner_text() == "Cluster-Panorama NRW"
    assert page.locator("svg circle.cluster").count() == 23
    assert page.locator("ol.legend li").count() == 7
    page.get_by_label("Suche in Namen (Groß-/Kleinschreibung und Umlaute egal)").fill("duesseldorf")
    page.locator("form.big-search button").click()
    page.wait_for_url("**/search?q=duesseldorf*")
    assert "Düsseldorf" in page.locator("ol.hits").inner_text()


def test_entity_page_renders_and_switches_language(visit: Visit) -> None:
    page = visit.open("/id/innovation-field/materials-production")
    assert page.locator("h1").inner_text() == "Innovative Werkstoffe und Intelligente Produktion"
    page.get_by_role("link", name="EN", exact=True).click()
    page.wait_for_url("**lang=en")
    assert page.locator("h1").inner_text() == "Innovative Materials and Intelligent Production"
    assert page.locator("table.statements").first.is_visible()


def test_a_named_query_runs_and_shows_rows(visit: Visit, backend: Backend) -> None:
    page = visit.open("/query")
    assert page.locator("#highlight .tok-keyword").count() > 0  # the editor highlights
    page.get_by_role("link", name="Cluster je Innovationsfeld", exact=True).click()
    page.wait_for_url("**/query?name=clusters-by-innovation-field*")
    rows = page.locator("table.result-table tbody tr")
    if backend.name == "virtuoso":
        # Virtuoso 7.2 answers this query wrongly: `?f a/rdfs:subClassOf* C` joined with
        # another pattern keeps one solution (docs/engines.md). The page shows what it got.
        assert rows.count() >= 1
    else:
        assert rows.count() > 20
        assert page.locator("table.result-table a[href='/id/cluster/its-owl']").count() >= 1
    download = page.get_by_role("link", name="csv").get_attribute("href")
    assert download == "/queries/clusters-by-innovation-field?format=csv"
    csv = page.request.get(visit.server.url + download)
    assert csv.ok and csv.text().startswith("field,fieldLabel")


def test_query_typed_in_the_editor_runs_with_ctrl_enter(visit: Visit) -> None:
    page = visit.open("/query")
    editor = page.locator("textarea#query")
    editor.fill("ASK { ?s ?p ?o }")
    editor.press("Control+Enter")
    page.wait_for_url("**/query?query=ASK*")
    assert "true" in page.locator(".boolean").inner_text()


def test_a_syntax_error_is_shown_on_the_page(
    visit: Visit, server: LiveServer, backend: Backend
) -> None:
    response = visit.page.goto(server.url + "/query?query=SELECT+%7B")
    visit.problems.clear()  # the 400 itself is logged by the browser
    assert response is not None and response.status == 400
    # On an engine the place is given in the engine's words (engine_queries.py).
    place = {"embedded": "line 1", "oxigraph": "error at 1:", "virtuoso": "line 1"}
    assert place[backend.name] in visit.page.locator(".error").inner_text()


def test_pages_work_on_a_phone(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en")
    page = context.new_page()
    page.goto(server.url + "/id/cluster/its-owl")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 390
