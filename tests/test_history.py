"""The session history: two writers at once, duplicates by content, the upgrade from schema version 1."""
import multiprocessing
import sqlite3

import numpy as np
import pandas as pd
import pytest

from analyzer.guidance import build_baseline
from analyzer.history import SCHEMA_VERSION, History, NewSession, default_db_path, normalise_date
from sensors.fileformat import content_hash
from analyzer.session import SessionStats
from sensors.errors import InputError, RetrorunError

SHARED = 10
OWN = 25


def make_stats(impact_g=6.0, direction="backward", steps=300) -> SessionStats:
    return SessionStats(placement="shank", direction=direction, direction_source="stated", sampling_rate_hz=200.0,
                        duration_s=900.0, warmup_s=300.0, step_count=steps * 2, running_duration_s=steps / 3,
                        impact_steps=steps, impact_g_median=impact_g, impact_g_p90=impact_g + 1,
                        cadence_steps=steps, cadence_spm=180.0, clipped_steps=0)


def make_steps(n=50) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({"time_s": i / 3, "foot": np.where(i % 2, "other", "sensor"), "estimated": i % 2 == 1,
                         "interval_s": np.where(i, 1 / 3, np.nan), "cadence_spm": np.where(i, 180.0, np.nan),
                         "impact_g": np.where(i % 2, np.nan, 6.0 + i / 100), "clipped": False, "running": True})


def new_session(digest: str, date="2025-01-01T00:00:00", impact_g=6.0, **tags) -> NewSession:
    return NewSession(content_hash=digest, path=f"/runs/{digest}.csv", session_date=date, stats=make_stats(impact_g),
                      steps=make_steps(), rules_version=1, tags=tags)


def writer(path: str, name: str, barrier, results) -> None:
    """One process: open (maybe creating) the database together with the other, then add its own sessions
    and the shared ones, interleaved."""
    barrier.wait()
    with History(path) as history:
        barrier.wait()
        out = []
        for i in range(OWN):
            out.append((f"{name}-{i}", history.add(new_session(f"{name}-{i}"))))
            if i < SHARED:
                out.append((f"shared-{i}", history.add(new_session(f"shared-{i}"))))
    results.put([(digest, r.id, r.added) for digest, r in out])


def test_two_processes_writing_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    db = tmp_path / "history.sqlite"
    procs = [ctx.Process(target=writer, args=(str(db), name, barrier, results)) for name in ("a", "b")]
    for p in procs:
        p.start()
    outcome = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    with History(db) as history:
        stored = history.sessions()
        assert history.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert history.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert history.schema_version() == SCHEMA_VERSION
        assert all(len(history.steps(r.id)) == 50 for r in stored)
    assert len(stored) == 2 * OWN + SHARED
    assert len({r.content_hash for r in stored}) == len(stored)
    shared = [(d, i, added) for rows in outcome for d, i, added in rows if d.startswith("shared-")]
    for k in range(SHARED):
        tries = [(i, added) for d, i, added in shared if d == f"shared-{k}"]
        assert sorted(added for _, added in tries) == [False, True]     # exactly one process stored it
        assert tries[0][0] == tries[1][0]                                # both name the same session


V1_SCHEMA = (  # exactly what retrorun shipped as schema version 1
    """CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, content_hash TEXT NOT NULL UNIQUE,
       path TEXT NOT NULL, added_at TEXT NOT NULL, session_date TEXT NOT NULL, placement TEXT NOT NULL,
       direction TEXT NOT NULL, duration_s REAL NOT NULL, step_count INTEGER NOT NULL, cadence_spm REAL,
       impact_g_median REAL)""",
    """CREATE TABLE tags (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
       key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (session_id, key))""",
    "PRAGMA user_version = 1",
)


def test_upgrade_from_schema_version_1_keeps_everything(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    for statement in V1_SCHEMA:
        con.execute(statement)
    rows = [("h1", "/r/1.csv", "2024-12-01T10:00:00", "2024-11-30T08:00:00", "shank", "backward", 1200.0, 3400, 182.5, 7.25),
            ("h2", "/r/2.csv", "2024-12-02T10:00:00", "2024-12-01T08:00:00", "sacrum", "forward", 600.0, 1700, 168.0, 2.4)]
    con.executemany("INSERT INTO sessions (content_hash, path, added_at, session_date, placement, direction, "
                    "duration_s, step_count, cadence_spm, impact_g_median) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("INSERT INTO tags VALUES (1, 'surface', 'track')")
    con.commit()
    con.close()

    with History(db) as history:
        assert history.schema_version() == SCHEMA_VERSION == 2
        old = history.sessions()
        assert [(r.content_hash, r.path, r.added_at, r.session_date, r.stats.placement, r.stats.direction,
                 r.stats.duration_s, r.stats.step_count, r.stats.cadence_spm, r.stats.impact_g_median) for r in old] == rows
        assert old[0].tags == {"surface": "track"} and old[1].tags == {}
        assert history.steps(old[0].id) is None and old[0].rules_version is None
        assert old[0].stats.impact_steps == 0          # unknown step counts: never a baseline on their own
        added = history.add(new_session("h3", date="2025-01-05T00:00:00"))
        assert added.added and added.id == 3
        assert history.add(new_session("h1")).added is False             # duplicates still detected
    with History(db) as again:                                           # idempotent: no second migration
        assert len(again.sessions()) == 3 and again.schema_version() == 2
        base = build_baseline(again.earlier(None), "backward", "shank")
        assert base.session_count == 1 and base.impact_g_median == 6.0


def test_newer_schema_and_garbage_are_refused(tmp_path):
    db = tmp_path / "future.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(RetrorunError, match="newer"):
        History(db)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="not a usable history database"):
        History(junk)
    with pytest.raises(InputError, match="no history database"):
        History(tmp_path / "missing.sqlite", create=False)


def test_sessions_order_filters_and_earlier(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        h.add(new_session("late", "2025-03-01T00:00:00", 5.0))
        h.add(new_session("early", "2025-01-01T00:00:00", 7.0, shoe="racer"))
        h.add(NewSession("fwd", "/f.csv", "2025-02-01T00:00:00", make_stats(9.0, "forward"), make_steps(), 1))
        assert [r.content_hash for r in h.sessions()] == ["early", "fwd", "late"]
        assert [r.content_hash for r in h.sessions(direction="forward")] == ["fwd"]
        assert [s.impact_g_median for s in h.earlier("2025-02-15T00:00:00")] == [7.0, 9.0]
        assert [s.impact_g_median for s in h.earlier(None, exclude_hash="late")] == [7.0, 9.0]
        assert h.get(2).tags == {"shoe": "racer"}
        steps = h.steps(1)
        assert list(steps.columns) == ["time_s", "foot", "estimated", "interval_s", "cadence_spm", "impact_g",
                                       "clipped", "running"]
        pd.testing.assert_frame_equal(steps, make_steps(), check_dtype=False)
        with pytest.raises(InputError, match="no such session"):
            h.get(99)


def test_content_hash_ignores_the_name(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("time_s,acc_x,acc_y,acc_z\n0,0,0,1\n")
    b.write_text(a.read_text())
    assert content_hash(a) == content_hash(b)
    b.write_text(a.read_text() + "0.01,0,0,1\n")
    assert content_hash(a) != content_hash(b)


def test_default_database_in_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "retrorun" / "history.sqlite"


def test_dates_are_normalised():
    assert normalise_date("2025-03-01") == "2025-03-01T00:00:00"
    assert normalise_date("2025-03-01T07:30+01:00") == "2025-03-01T06:30:00"
    with pytest.raises(InputError, match="not a date"):
        normalise_date("yesterday")
