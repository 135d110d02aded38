"""Settings: declared once, validated at start-up, passed to everything that needs them.

Every setting can come from the command line or from an environment variable with the
prefix ``PANORAMA_`` (``PANORAMA_QUERY_TIMEOUT=10``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_BASE_IRI", "Settings", "bundle_root", "default_store_dir"]

#: The persistent namespace the bundled files are written in.
DEFAULT_BASE_IRI = "https://w3id.org/cluster-panorama/"


def bundle_root() -> Path:
    """Return the folder holding ``ontology/``, ``data/``, ``shapes/`` and ``queries/``.

    An installed wheel carries them in ``panorama/bundled``; a source checkout (or an
    editable install) has them at the top of the repository.
    """
    packaged = Path(__file__).resolve().parent / "bundled"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


def default_store_dir() -> Path:
    """Return the XDG data directory for the store, so every checkout finds the same one."""
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "cluster-panorama" / "store"


class Settings(BaseSettings):
    """What one Cluster-Panorama server is configured with."""

    model_config = SettingsConfigDict(env_prefix="PANORAMA_", frozen=True)

    base_iri: str = Field(
        DEFAULT_BASE_IRI,
        description="Namespace of every IRI the project mints; must end with '/' or '#'.",
    )
    store: Path | None = Field(
        default_factory=default_store_dir,
        description="Directory of the on-disk store; None keeps the store in memory.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    query_timeout: float = Field(30.0, gt=0, description="Seconds a SPARQL query may run.")
    query_workers: int = Field(
        4,
        ge=0,
        le=64,
        description=(
            "Processes that evaluate SPARQL queries in parallel (0: the server's own threads, "
            "without timeouts; only where every query is trusted)."
        ),
    )
    query_threads: int = Field(
        32,
        ge=1,
        le=64,
        description=(
            "Queries each worker process runs at once (threads sharing its store and its "
            "cache; queries go to the first process with a free thread)."
        ),
    )
    sparql_shortcut: bool = Field(
        True, description="Answer /sparql ahead of the middleware stack (same answers, faster)."
    )
    max_query_bytes: int = Field(100_000, ge=1_000, description="Largest SPARQL query accepted.")
    answer_cache: int = Field(
        512, ge=0, description="SPARQL answers kept until the store changes (0: none)."
    )
    answer_cache_mb: int = Field(
        256, ge=0, description="Most memory the kept answers may take, in MiB."
    )
    answer_cache_largest_mb: int = Field(
        16, ge=0, description="Largest answer kept, in MiB (larger ones are streamed each time)."
    )
    bundle: Path = Field(default_factory=bundle_root, description="Folder of bundled files.")
    # --- external SPARQL engine (panorama.remote_store, docs/engines.md) ---
    engine: str | None = Field(
        None,
        description="Query URL of a SPARQL 1.1 engine to keep the data in, instead of the "
        "embedded store (credentials: PANORAMA_ENGINE_USER, PANORAMA_ENGINE_PASSWORD).",
    )
    engine_update: str | None = Field(
        None, description="The engine's SPARQL Update URL [default: the query URL]."
    )
    engine_store: str | None = Field(
        None, description="The engine's Graph Store Protocol URL [default: the query URL]."
    )
    engine_refresh: float = Field(
        0.0,
        ge=0,
        description="Seconds a check for other servers' writes is trusted (0: every request "
        "waits for a check that started after it arrived).",
    )
    # --- end external SPARQL engine ---
    # --- dataset description (panorama.dataset) ---
    contact_url: str | None = Field(
        None,
        description="Web page where people reach the project (e.g. its issue tracker), "
        "the DCAT contact point; defaults to the namespace's home page.",
    )
    # --- end dataset description ---

    # --- validation of contributions (panorama.validation) ---
    validation_max_bytes: int = Field(
        5_000_000, ge=1_000, description="Largest submission accepted by POST /validate (413)."
    )
    validation_max_triples: int = Field(
        200_000, ge=1, description="Most triples one submission may hold (413)."
    )
    validation_timeout: float = Field(
        10.0, gt=0, description="Seconds a validation may run before it is stopped (422)."
    )
    validation_workers: int = Field(
        2, ge=1, le=64, description="Processes that validate submissions in parallel."
    )
    validation_queue: int = Field(
        8, ge=0, description="Submissions that may wait for a busy validator (then 503)."
    )
    # --- end validation ---

    @field_validator("base_iri")
    @classmethod
    def _base_iri_is_a_namespace(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith(("/", "#")):
            raise ValueError(
                f"base_iri must be an http(s) IRI ending with '/' or '#', got {value!r}"
            )
        return value

    @field_validator("engine", "engine_update", "engine_store")
    @classmethod
    def _engine_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"an engine URL must be an http(s) URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _engine_named_first(self) -> Settings:
        if self.engine is None and (self.engine_update or self.engine_store):
            raise ValueError(
                "engine_update and engine_store go with engine (the query URL): give --engine"
            )
        return self

    @model_validator(mode="after")
    def _bundle_exists(self) -> Settings:
        if not (self.bundle / "ontology").is_dir():
            raise ValueError(f"no bundled ontology/ folder under {self.bundle}")
        return self

    @property
    def in_memory(self) -> bool:
        """Whether nothing is kept in a local store directory (``--memory``, or an engine)."""
        return self.store is None or self.engine is not None
