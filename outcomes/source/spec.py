"""`SourceSpec`: where an extract lives, said once and checked once.

A frozen value: a `folder` (one parquet/CSV file per table) or a `url` (PostgreSQL, any database
Ibis connects to, Spark Connect `sc://`), or a `session` already connected in this process (a
Spark session or an Ibis backend); the `schema` holding the tables; the `engine` that computes
("duckdb", "postgres", "spark"; default: what the source is); the `end_date` the extract covers
(default: the extract's own; refused past the last month with activity unless
`end_date_beyond_data`). Contradictions are `UserError`s naming the spec's fields, raised as
the spec is made; the command line builds one from its options (`outcomes.commands.options`).

>>> SourceSpec(url="postgresql://analyst@db.nhs.uk:5432/outcomes/mhsds").engine
'postgres'
>>> SourceSpec.of("data/reference", end_date="2023-12-31").end_date
datetime.date(2023, 12, 31)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from outcomes.errors import UserError
from outcomes.source.contract.extract import parse_date
from outcomes.credentials import mask_url
from outcomes.source.engines import ENGINES, engine_of, is_spark_session

__all__ = ["SourceSpec"]


@dataclass(frozen=True)
class SourceSpec:
    """Where an extract lives (see the module docstring); checked when made."""

    folder: Path | None = None
    url: str | None = None
    schema: str | None = None
    engine: str | None = None
    end_date: dt.date | None = None
    #: the data really run to `end_date`, though no activity is recorded in its last months
    end_date_beyond_data: bool = False
    session: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        folder = Path(self.folder) if self.folder is not None else None
        end = parse_date(self.end_date, "the source's end_date", "end_date") if self.end_date is not None else None
        object.__setattr__(self, "folder", folder)
        object.__setattr__(self, "end_date", end)
        object.__setattr__(self, "_asked_engine", self.engine)  # as given: `with_` starts from it again
        object.__setattr__(self, "engine", self._engine())

    @classmethod
    def of(cls, source: Any = None, **fields: Any) -> "SourceSpec":
        """A spec from a positional source: a folder, a URL, a Spark session or an Ibis backend
        (`fields`: schema, engine, end_date); a spec given is returned as it is."""
        if isinstance(source, SourceSpec):
            if any(v is not None for v in fields.values()):
                raise UserError("a SourceSpec already says where the extract lives: give schema, engine and end_date in it")
            return source
        if source is None:
            return cls(**fields)
        if is_spark_session(source) or hasattr(source, "list_tables"):
            return cls(session=source, **fields)
        if isinstance(source, str) and "://" in source:
            return cls(url=source, **fields)
        if isinstance(source, str | Path):
            return cls(folder=Path(source), **fields)
        raise UserError(f"cannot open an extract from {type(source).__name__}: give a folder, a URL, an Ibis backend "
                        "or a Spark session")

    def with_(self, **changes: Any) -> "SourceSpec":
        """The same spec with `changes` (checked again; the engine found again unless one was given)."""
        return replace(self, **{"engine": self._asked_engine, **changes})

    @property
    def shown(self) -> str:
        """The source as messages show it: the folder, or the URL masked."""
        if self.url:
            return mask_url(self.url)
        return str(self.folder) if self.folder is not None else self.engine or "a session"

    def _engine(self) -> str:
        folder, url, schema, session = self.folder, self.url, self.schema, self.session
        if folder is not None and url and session is not None:
            raise UserError("give one source: a folder, a URL or a session")
        if session is not None and (folder is not None or url):
            raise UserError("give one source: a session, or a folder or a URL, not both")
        if session is not None and not is_spark_session(session):  # an Ibis backend: computes where it is
            return str(self.engine or session.name)
        named = engine_of(url)
        spark_session = session is not None
        engine = (self.engine or ("spark" if spark_session else None) or named or "duckdb").lower()
        engine = "postgres" if engine == "postgresql" else engine
        if engine not in ENGINES:
            raise UserError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)} (or give a database URL)")
        if engine == "spark" and url and named != "spark":
            raise UserError(f"the url {mask_url(url)} names a database, not Spark: with the spark engine give a folder, "
                            "a schema or a Spark Connect url (sc://host:port)")
        if url and named in ENGINES and named != engine:
            raise UserError(f"engine {engine} does not match the url {mask_url(url)}")
        if url and folder is not None and engine != "spark":
            raise UserError("give either a folder or a url, not both (to put a folder into a database: "
                            "outcomes.source.load.load_extract, or `outcomes load-warehouse`)")
        if engine == "spark" and folder is not None and schema:
            raise UserError("with the spark engine give either a folder (loaded into the session) or a schema "
                            "(tables already in Spark), not both")
        if engine == "postgres" and not url and session is None:
            raise UserError("the postgres engine needs a url: postgresql://user@host:port/database (and a schema)")
        if folder is None and not url and session is None and not schema and engine != "spark":
            raise UserError("give the extract's folder, or a database url (or the spark engine)")
        return engine
