"""The web application: routing only. Each route reads its input, calls one function, returns."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

from panorama import (
    __version__,
    backends,
    bundle,
    contributions_http,
    endpoint,
    harvesting,
    validation_http,
)
from panorama.cache import VersionedCache
from panorama.config import Settings
from panorama.contributions import Contributions
from panorama.contributions_http import ContributionDesk
from panorama.errors import NotFound, PanoramaError
from panorama.executor import QueryRunner
from panorama.flights import Flights
from panorama.freshness import StoreFreshness
from panorama.named_queries import load_named_queries
from panorama.pages import home_response, search_response
from panorama.query_page import query_page_response
from panorama.resources import answer_resource
from panorama.responses import error_response, http_error_response
from panorama.sparql import answer_job, named_query_job
from panorama.store import Store

__all__ = ["create_app"]

log = logging.getLogger("panorama")
MIB = 1 << 20


# Dependencies are coroutines: FastAPI would run plain functions in its thread pool, a
# hop that costs more than these lookups.
async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_pool(request: Request) -> QueryRunner:
    return request.app.state.pool


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_cache(request: Request) -> VersionedCache:
    return request.app.state.cache


StoreDep = Annotated[Store, Depends(get_store)]
PoolDep = Annotated[QueryRunner, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[VersionedCache, Depends(get_cache)]


async def get_desk(request: Request) -> ContributionDesk:
    return request.app.state.desk


DeskDep = Annotated[ContributionDesk, Depends(get_desk)]


def create_app(settings: Settings, store: backends.AnyStore | None = None) -> FastAPI:
    """Build the application.

    Args:
        settings: the configuration.
        store: an opened store whose bundle is already in sync (the CLI opens it first, to
            report problems before serving); without it the app opens the store named in
            ``settings`` (a directory, or the engine) and syncs the bundle at start-up.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Each resource is closed by the stack however start-up ends, even half-way.
        async with AsyncExitStack() as stack:
            active = store
            if active is None:
                active = backends.open_store(settings)
                stack.callback(active.close)
                log.info("bundle: %s", bundle.sync(active, settings.bundle))
            if aclose := getattr(active, "aclose", None):
                stack.push_async_callback(aclose)  # the engine's connections of this loop
            pool = backends.query_runner(settings, active)
            stack.callback(pool.close)
            await pool.start()
            active.on_change.append(pool.refresh)
            validation = validation_http.ValidationService(settings)
            stack.callback(validation.close)
            validation.start(active)
            contributions = Contributions(active, backends.open_ledger(active))
            if dropped := contributions.reconcile():
                log.warning("contributions left unfinished by a crash, dropped: %s", dropped)
            app.state.store, app.state.pool, app.state.settings = active, pool, settings
            app.state.freshness = backends.revision_watch(settings, active)
            app.state.validation = validation
            app.state.desk = ContributionDesk(
                contributions, validation, max_bytes=settings.validation_max_bytes
            )
            app.state.cache = VersionedCache(active)
            app.state.sparql_cache = VersionedCache(
                active,
                maxsize=settings.answer_cache,
                max_weight=settings.answer_cache_mb * MIB,
                max_entry_weight=settings.answer_cache_largest_mb * MIB,
                weigh=lambda answer: len(answer[0]),  # type: ignore[index]
            )
            # With the cache off (to measure, say), every query is evaluated on its own.
            app.state.sparql_flights = Flights() if settings.answer_cache else None
            app.state.named_queries = load_named_queries(settings.bundle / "queries")
            yield

    app = FastAPI(
        title="Cluster-Panorama NRW",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI would load scripts from a CDN.
        redoc_url=None,
    )
    app.add_middleware(GZipMiddleware, minimum_size=endpoint.GZIP_MINIMUM)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Accept", "Accept-Language", "Content-Type", "If-None-Match"],
        expose_headers=list(endpoint.CORS_EXPOSED),
    )
    if settings.sparql_shortcut:
        app.add_middleware(endpoint.SparqlShortcut)
    if settings.engine is not None or not isinstance(store, Store | None):
        # Outermost: another server's write is learned before any cache answers.
        app.add_middleware(StoreFreshness)
    app.add_exception_handler(PanoramaError, error_response)
    app.add_exception_handler(HTTPException, http_error_response)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/", name="home", include_in_schema=False)
    def home(request: Request, store: StoreDep, cache: CacheDep) -> Response:
        return home_response(request, store, cache)

    @app.get("/query", name="query")
    async def query_page(request: Request, pool: PoolDep) -> Response:
        """The query editor; runs the query (or named query) in the URL, if any."""
        state = request.app.state
        return await query_page_response(request, pool, state.named_queries, state.store.base_iri)

    @app.get("/search", name="search")
    def search(request: Request, store: StoreDep, cache: CacheDep) -> Response:
        """Resources whose names contain the words of ``q`` (HTML, or JSON on request)."""
        return search_response(request, store, cache)

    # GET and POST are answered by SparqlShortcut before the stack; the route stays for
    # url_for, for 405s, and for the same answers without the shortcut.
    app.add_route("/sparql", endpoint.answer, methods=["GET", "POST"], name="sparql")

    @app.get("/queries", name="named_queries")
    def named_queries(request: Request) -> Response:
        """The named queries: titles and descriptions (de, en), parameters, where to run them."""
        queries = request.app.state.named_queries.values()
        return JSONResponse({"queries": [query.summary() for query in queries]})

    @app.get("/queries/{name}", name="named_query")
    async def named_query(name: str, request: Request) -> Response:
        """Run a named query; its parameters are query-string IRIs, its format negotiated."""
        state = request.app.state
        named = state.named_queries.get(name)
        if named is None:
            raise NotFound(f"There is no named query {name!r}; /queries lists them.")
        job, cacheable = named_query_job(
            named,
            dict(request.query_params),
            request.headers.get("accept"),
            tuple(request.query_params.getlist("format")),
        )
        return await answer_job(
            state.pool, job, state.sparql_cache, cacheable=cacheable, flights=state.sparql_flights
        )

    @app.get("/health", name="health")
    def health(request: Request, pool: PoolDep) -> JSONResponse:
        """Liveness and query statistics, for operators and monitoring."""
        flights = request.app.state.sparql_flights
        return JSONResponse(
            {
                "status": "ok" if pool.alive or not pool.size else "degraded",
                "version": __version__,
                "query_workers": {
                    "size": pool.size,
                    "alive": pool.alive,
                    "threads": pool.threads,
                },
                "queries": pool.stats.queries,
                "pages_rendered": pool.stats.pages,
                "timeouts": pool.stats.timeouts,
                "workers_replaced": pool.stats.workers_replaced,
                "lookups_in_thread": pool.stats.in_thread,
                "queries_resent": pool.stats.resent,
                # Answered with the answer of the same query running at the same time.
                "queries_shared": flights.shared if flights is not None else 0,
            }
        )

    # --- dataset description: VoID, DCAT-AP, dumps, sitemap (panorama.harvesting) ---
    # Plain `def` routes: they count and dump from the store in FastAPI's worker threads.

    @app.api_route("/.well-known/void", methods=["GET", "HEAD"], name="void")
    def void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
        """The VoID description of the dataset (Turtle, JSON-LD, RDF/XML, N-Triples)."""
        return harvesting.void_response(request, store, settings)

    @app.api_route("/catalog", methods=["GET", "HEAD"], name="catalog")
    def catalog(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
        """The DCAT-AP 3 record: catalog, dataset, distributions, SPARQL service."""
        return harvesting.catalog_response(request, store, settings)

    @app.api_route("/dumps/{name}", methods=["GET", "HEAD"], name="dump")
    def dump(name: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
        """A gzip dump of the published graphs (cluster-panorama.nq.gz, .ttl.gz)."""
        return harvesting.dump_response(request, store, settings, name)

    @app.api_route("/sitemap.xml", methods=["GET", "HEAD"], name="sitemap")
    def sitemap(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
        return harvesting.sitemap_response(request, store, settings)

    @app.api_route("/robots.txt", methods=["GET", "HEAD"], name="robots")
    async def robots(request: Request) -> Response:
        return harvesting.robots_response(request)

    # --- end dataset description ---

    # --- validation of contributions (panorama.validation_http) ---
    @app.get("/validate", name="validate")
    def validate_page(request: Request) -> Response:
        """A page with a paste box and a file upload; the report is grouped by node."""
        return validation_http.page(request)

    @app.post("/validate", name="validate_submission")
    async def validate_submission(request: Request, settings: SettingsDep) -> Response:
        """Validate Turtle, N-Triples or JSON-LD; answer a report (JSON, Turtle, JSON-LD, HTML)."""
        submitted = await validation_http.read_submission(request, settings.validation_max_bytes)
        return await validation_http.answer(request, request.app.state.validation, submitted)

    # --- end validation ---

    # --- contributions (panorama.contributions_http) ---
    @app.post("/contributions", name="contribute", status_code=201)
    async def contribute(request: Request, desk: DeskDep) -> Response:
        """Replace the contributor's graph with the Turtle or N-Triples sent (Bearer token)."""
        return await desk.submit(request)

    @app.get("/contributions", name="contributions")
    def contributions_list(request: Request, desk: DeskDep) -> Response:
        return contributions_http.list_response(request, desk)

    @app.get("/contributions/new", name="contribution_form")
    def contribution_form(request: Request) -> Response:
        return contributions_http.form_page(request)

    @app.get("/contributions/{version_id}", name="contribution")
    def contribution(version_id: str, request: Request, desk: DeskDep) -> Response:
        return contributions_http.one_response(request, desk, version_id)

    @app.get("/contributions/{version_id}/content", name="contribution_content")
    def contribution_content(version_id: str, desk: DeskDep) -> Response:
        return contributions_http.content_response(desk, version_id)

    @app.get("/contributions/{version_id}/report", name="contribution_report")
    def contribution_report(version_id: str, desk: DeskDep) -> Response:
        return contributions_http.report_response(desk, version_id)

    @app.post("/contributions/{version_id}/rollback", name="contribution_rollback")
    async def contribution_rollback(version_id: str, request: Request, desk: DeskDep) -> Response:
        """Restore an earlier version of the caller's own graph (Bearer token)."""
        return await desk.rollback(request, version_id)

    # Must stay the last route: any other path names a resource in the namespace.
    @app.api_route("/{path:path}", methods=["GET", "HEAD"], name="resource")
    async def resource(path: str, request: Request) -> Response:
        """Any IRI of the namespace, dereferenced: HTML or RDF by content negotiation."""
        # The most requested route reads the app's state itself: solving four dependencies
        # cost 50 µs of the 600 µs a page takes the server's thread.
        state = request.app.state
        return await answer_resource(
            request, state.store, state.settings, state.cache, state.pool, path
        )

    return app
