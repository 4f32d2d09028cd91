"""Session history in SQLite: one row per recording (found again by the SHA-256 of its bytes), its summary
values, tags and steps.

- Schema versioned in `PRAGMA user_version`; `MIGRATIONS[i]` takes a database from version i to i + 1 and
  runs inside one write transaction, so an upgrade either happens whole or not at all, and two processes
  opening an old database at once migrate it once.
- Safe with several writers: WAL journal, a busy timeout, and every write in `BEGIN IMMEDIATE`; the UNIQUE
  content hash makes adding the same recording twice (even from two processes at once) a reported duplicate.
- Default location: the user's data directory (platformdirs), e.g. ~/.local/share/retrorun/history.sqlite.
"""
from __future__ import annotations

import io
import math
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from sensors.errors import InputError, RetrorunError

from .session import SessionStats

DB_FILENAME = "history.sqlite"
BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another one to finish (a whole `history add` of many files is many short
transactions, each far shorter than this)."""
WAL_RETRY_S = 0.02
STEP_FIELDS = ("time_s", "foot", "estimated", "interval_s", "cadence_spm", "impact_g", "clipped", "running")
STEPS_FORMAT = "npz-1"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 0 -> 1: sessions with whole-recording summary values, and tags
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            content_hash TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL,
            added_at TEXT NOT NULL,
            session_date TEXT NOT NULL,
            placement TEXT NOT NULL,
            direction TEXT NOT NULL,
            duration_s REAL NOT NULL,
            step_count INTEGER NOT NULL,
            cadence_spm REAL,
            impact_g_median REAL)""",
        """CREATE TABLE tags (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (session_id, key))""",
    ),
    # version 1 -> 2: values over running steps after the warm-up with the steps behind them, the sampling
    # rate, clipping, the rules version, and the steps themselves (for compare and re-evaluation)
    (
        "ALTER TABLE sessions ADD COLUMN direction_source TEXT",
        "ALTER TABLE sessions ADD COLUMN sampling_rate_hz REAL",
        "ALTER TABLE sessions ADD COLUMN warmup_s REAL",
        "ALTER TABLE sessions ADD COLUMN running_duration_s REAL",
        "ALTER TABLE sessions ADD COLUMN impact_steps INTEGER",
        "ALTER TABLE sessions ADD COLUMN impact_g_p90 REAL",
        "ALTER TABLE sessions ADD COLUMN cadence_steps INTEGER",
        "ALTER TABLE sessions ADD COLUMN clipped_steps INTEGER",
        "ALTER TABLE sessions ADD COLUMN rules_version INTEGER",
        """CREATE TABLE session_steps (
            session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
            format TEXT NOT NULL,
            data BLOB NOT NULL)""",
        "CREATE INDEX sessions_by_kind ON sessions (direction, placement, session_date)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path() -> Path:
    """history.sqlite in the user's data directory (platformdirs)."""
    import platformdirs
    return Path(platformdirs.user_data_dir("retrorun", appauthor=False)) / DB_FILENAME


def normalise_date(text: str, what: str = "date") -> str:
    """An ISO date or date-time as 'YYYY-MM-DDTHH:MM:SS' (sortable text); InputError otherwise."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not a {what}", found=repr(text), expected="YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]") from None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


@dataclass(frozen=True)
class NewSession:
    """What `History.add` stores."""

    content_hash: str
    path: str
    session_date: str
    stats: SessionStats
    steps: pd.DataFrame
    rules_version: int
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionRecord:
    id: int
    content_hash: str
    path: str
    added_at: str
    session_date: str
    stats: SessionStats
    rules_version: int | None
    tags: dict[str, str]

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.session_date)


@dataclass(frozen=True)
class AddResult:
    id: int
    added: bool
    """False when the same content was already in the history (then `id` is the earlier session's)."""


def steps_to_blob(steps: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    arrays = {name: steps[name].to_numpy(dtype=str if name == "foot" else
                                         (bool if name in ("estimated", "clipped", "running") else float))
              for name in STEP_FIELDS}
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def steps_from_blob(blob: bytes) -> pd.DataFrame:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return pd.DataFrame({name: npz[name] for name in STEP_FIELDS})


class History:
    """A session history database. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise InputError("no history database", path=self.path,
                             expected="one made by `retrorun history add` (the default database, or the file --db names)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise InputError("not a usable history database", path=self.path, found=str(exc)) from None

    def _enable_wal(self) -> None:
        """Switching to WAL needs a moment alone with the file and, unlike other statements, does not wait
        on the busy timeout: when another process is creating the same database, wait and try again."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_RETRY_S)

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- schema

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self._write():
            version = self.schema_version()   # re-read under the write lock: another process may have migrated
            if version > SCHEMA_VERSION:
                raise RetrorunError(f"{self.path}: history schema version {version} is newer than this "
                                    f"retrorun understands ({SCHEMA_VERSION}); upgrade retrorun")
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _write(self) -> "_Transaction":
        return _Transaction(self.db)

    # -- writing

    def find(self, digest: str) -> int | None:
        row = self.db.execute("SELECT id FROM sessions WHERE content_hash = ?", (digest,)).fetchone()
        return None if row is None else int(row[0])

    def add(self, new: NewSession) -> AddResult:
        """Store a session; a recording already stored (same content hash) is not stored again."""
        s = new.stats
        try:
            with self._write():
                cur = self.db.execute(
                    """INSERT INTO sessions (content_hash, path, added_at, session_date, placement, direction,
                        duration_s, step_count, cadence_spm, impact_g_median, direction_source, sampling_rate_hz,
                        warmup_s, running_duration_s, impact_steps, impact_g_p90, cadence_steps, clipped_steps,
                        rules_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (new.content_hash, new.path, _now(), new.session_date, s.placement, s.direction, s.duration_s,
                     s.step_count, _sql(s.cadence_spm), _sql(s.impact_g_median), s.direction_source,
                     s.sampling_rate_hz, s.warmup_s, s.running_duration_s, s.impact_steps, _sql(s.impact_g_p90),
                     s.cadence_steps, s.clipped_steps, new.rules_version))
                session_id = int(cur.lastrowid)
                self.db.executemany("INSERT INTO tags (session_id, key, value) VALUES (?, ?, ?)",
                                    [(session_id, k, v) for k, v in new.tags.items()])
                self.db.execute("INSERT INTO session_steps (session_id, format, data) VALUES (?, ?, ?)",
                                (session_id, STEPS_FORMAT, steps_to_blob(new.steps)))
        except sqlite3.IntegrityError:
            existing = self.find(new.content_hash)
            if existing is None:
                raise
            return AddResult(existing, False)
        return AddResult(session_id, True)

    # -- reading

    def sessions(self, direction: str | None = None, placement: str | None = None) -> list[SessionRecord]:
        """Sessions oldest first (by session date, then by id), optionally of one direction/placement."""
        where, params = [], []
        if direction:
            where.append("direction = ?")
            params.append(direction)
        if placement:
            where.append("placement = ?")
            params.append(placement)
        sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.execute(sql + " ORDER BY session_date, id", params)
        names = [d[0] for d in rows.description]
        records = [dict(zip(names, row)) for row in rows.fetchall()]
        tags = self._tags()
        return [_record(r, tags.get(r["id"], {})) for r in records]

    def get(self, session_id: int) -> SessionRecord:
        cur = self.db.execute("SELECT * FROM sessions WHERE id = ?", (int(session_id),))
        row = cur.fetchone()
        if row is None:
            raise InputError("no such session in the history", path=self.path, found=f"id {session_id}",
                             expected="an id from `retrorun history list`")
        names = [d[0] for d in cur.description]
        return _record(dict(zip(names, row)), self._tags().get(int(session_id), {}))

    def steps(self, session_id: int) -> pd.DataFrame | None:
        """The stored steps of a session (None for sessions added before steps were stored)."""
        row = self.db.execute("SELECT format, data FROM session_steps WHERE session_id = ?",
                              (int(session_id),)).fetchone()
        if row is None:
            return None
        if row[0] != STEPS_FORMAT:
            raise RetrorunError(f"{self.path}: session {session_id} steps in unknown format {row[0]!r}")
        return steps_from_blob(row[1])

    def earlier(self, session_date: str | None, exclude_hash: str | None = None) -> list[SessionStats]:
        """Stats of the sessions before `session_date` (all when None), oldest first, without `exclude_hash`:
        the history a session's baseline may use."""
        return [r.stats for r in self.sessions() if r.content_hash != exclude_hash
                and (session_date is None or r.session_date < session_date)]

    def _tags(self) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        for sid, key, value in self.db.execute("SELECT session_id, key, value FROM tags ORDER BY key"):
            out.setdefault(int(sid), {})[key] = value
        return out


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): the write lock is taken up front, so two writers
    queue on the busy timeout instead of failing on a lock upgrade."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _sql(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _float(value) -> float:
    return float("nan") if value is None else float(value)


def _record(r: dict, tags: dict[str, str]) -> SessionRecord:
    """A row as a SessionRecord. Rows from schema version 1 have no step counts (0: they never make a
    baseline), no warm-up exclusion (0 s) and no sampling rate (NaN)."""
    stats = SessionStats(
        placement=r["placement"], direction=r["direction"], direction_source=r["direction_source"] or "not recorded",
        sampling_rate_hz=_float(r["sampling_rate_hz"]), duration_s=float(r["duration_s"]),
        warmup_s=_float(r["warmup_s"]) if r["warmup_s"] is not None else 0.0, step_count=int(r["step_count"]),
        running_duration_s=_float(r["running_duration_s"]), impact_steps=int(r["impact_steps"] or 0),
        impact_g_median=_float(r["impact_g_median"]), impact_g_p90=_float(r["impact_g_p90"]),
        cadence_steps=int(r["cadence_steps"] or 0), cadence_spm=_float(r["cadence_spm"]),
        clipped_steps=int(r["clipped_steps"] or 0))
    return SessionRecord(id=int(r["id"]), content_hash=r["content_hash"], path=r["path"], added_at=r["added_at"],
                         session_date=r["session_date"], stats=stats, rules_version=r["rules_version"], tags=tags)
