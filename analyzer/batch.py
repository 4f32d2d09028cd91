"""Batch analysis: many recordings in parallel processes or on a Dask cluster, results kept in one folder.

    report = run_batch(["runs/", "extra.npz"], "out/", jobs=2)
    report = run_batch(["runs/"], "out/", dask="tcp://scheduler:8786")   # or dask="local", or a Client

The output folder holds one JSON file per recording (`recordings/<name>.<key>.json`: the source, the
settings and everything `Analysis.to_dict()` gives), `summary.sqlite` (table `recordings`, one row per
recording analysed so far; table `failures`, the recordings that failed in the latest run) and
`summary.csv` (the `recordings` table). A recording is known by its content (SHA-256 of its bytes, or of
every file of a folder export) and the settings it was analysed with, so a second run skips every
recording already in the folder, whatever its file is called now. Bad recordings never stop a batch:
they are listed in `BatchReport.failed` with their error.

The work is two passes of the same worker functions (`fingerprint`, then `analyse_one`) over whichever
runner is chosen: in-process (`jobs=1`), a pool of processes, or Dask workers, which read the recordings
themselves (so the paths must be valid on the workers). Workers return the result text; only this
process writes to the output folder, so the local and Dask paths write identical files.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sensors.errors import InputError, RetrorunError
from sensors.fileformat import atomic_write, content_hash

from .analysis import Summary

RECORDING_SUFFIXES = (".csv", ".npz", ".zip", ".txt", ".tsv", ".xlsx", ".xls")
"""Files taken as recordings when a folder is expanded (anything `sensors.load` reads)."""
IGNORED_SUFFIXES = (".truth.csv",)
"""Files skipped when a folder is expanded: the simulator's ground truth beside each simulated recording."""
RESULTS_FOLDER = "recordings"
SUMMARY_CSV = "summary.csv"
SUMMARY_DB = "summary.sqlite"
KEY_CHARS_IN_NAME = 12
"""Characters of the result key in a result file's name: enough to tell 10^7 recordings apart."""
LOCAL_DASK = "local"
"""`dask=` value that starts a LocalCluster on this machine instead of connecting to a scheduler."""

ProgressCallback = Callable[[str, int, int], None]
"""Called as `progress(phase, done, total)`; phase is 'reading' (hashing) or 'analysing'."""

ROW_FIELDS = ("path", "result_file", "content_sha256", "key", "format", "samples") + tuple(
    f.name for f in fields(Summary) if f.name != "notes") + ("notes", "settings")
"""Columns of the summary table: the source, then every `Summary` field (units in their names)."""


@dataclass(frozen=True)
class BatchSettings:
    """Options every recording of a batch is read and analysed with (None: from each file)."""

    placement: str | None = None
    unit: str | None = None

    def key_text(self) -> str:
        """The settings as stable text, with the retrorun version: part of every result's key."""
        from . import __version__
        return json.dumps({"placement": self.placement, "unit": self.unit, "retrorun": __version__}, sort_keys=True)


@dataclass(frozen=True)
class Failure:
    """A recording that could not be read or analysed, and why (one line)."""

    path: str
    error: str


@dataclass(frozen=True)
class Fingerprint:
    """The content hash of one recording, or the reason it could not be read."""

    path: str
    content_sha256: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker returns for one recording: its summary row and result JSON, or its error."""

    path: str
    key: str
    content_sha256: str
    row: dict[str, Any] | None = None
    result_json: str | None = None
    error: str | None = None


@dataclass
class BatchReport:
    """What a batch did. `analysed` and `skipped` hold paths; `skipped` maps each to why."""

    outdir: Path
    recording_count: int
    analysed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: list[Failure] = field(default_factory=list)
    summary_row_count: int = 0

    @property
    def summary_csv(self) -> Path:
        return self.outdir / SUMMARY_CSV

    @property
    def summary_db(self) -> Path:
        return self.outdir / SUMMARY_DB


# ---------------------------------------------------------------- finding recordings and knowing them again

def find_recordings(paths: Iterable[str | Path], exclude: Path | None = None) -> tuple[list[Path], list[Failure]]:
    """Recordings named by `paths`: files as given, folders searched recursively (a folder that is itself
    an app export counts as one recording). Paths that do not exist come back as failures. `exclude` (the
    output folder) and hidden files are never taken. Sorted, without repeats."""
    found: list[Path] = []
    missing: list[Failure] = []
    skip = exclude.resolve() if exclude is not None else None
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            missing.append(Failure(str(path), str(InputError("no such file or folder", path=path))))
        elif path.is_dir() and not is_folder_export(path):
            found.extend(_recordings_in_folder(path, skip))
        else:
            found.append(path)
    unique = {p.resolve(): p for p in found}
    return sorted(unique.values(), key=str), missing


def _recordings_in_folder(folder: Path, skip: Path | None) -> Iterator[Path]:
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or (skip is not None and entry.resolve() == skip):
            continue
        if entry.is_dir():
            if is_folder_export(entry):
                yield entry
            else:
                yield from _recordings_in_folder(entry, skip)
        elif _looks_like_recording(entry.name):
            yield entry


def _looks_like_recording(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(RECORDING_SUFFIXES) and not lower.endswith(IGNORED_SUFFIXES)


def is_folder_export(folder: Path) -> bool:
    """Whether a folder is one app export (an unzipped Sensor Logger or phyphox export): the importers
    recognise it and its files sit at its top level."""
    if not any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir()):
        return False
    from sensors.importers import claims
    try:
        return claims(folder)
    except RetrorunError:
        return False


def result_key(content_hash: str, settings: BatchSettings) -> str:
    """The name of one result: the recording's content and the settings it was analysed with."""
    return hashlib.sha256(f"{content_hash}\n{settings.key_text()}".encode()).hexdigest()


def result_file_name(path: str | Path, key: str) -> str:
    """`<file name>.<key prefix>.json`, the file name made safe for any file system."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).name)[:80] or "recording"
    return f"{stem}.{key[:KEY_CHARS_IN_NAME]}.json"


# ---------------------------------------------------------------- the worker functions (run anywhere)

def fingerprint(path: str) -> Fingerprint:
    """Worker step 1: the content hash of one recording (never raises)."""
    try:
        return Fingerprint(path, content_sha256=content_hash(path))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return Fingerprint(path, error=describe_error(exc))


@dataclass(frozen=True)
class AnalysisTask:
    path: str
    content_sha256: str
    settings: BatchSettings


def analyse_one(task: AnalysisTask) -> Outcome:
    """Worker step 2: read and analyse one recording; its summary row and result JSON, or its error
    (never raises)."""
    from sensors import load

    from .analysis import analyze

    key = result_key(task.content_sha256, task.settings)
    try:
        recording = load(task.path, unit=task.settings.unit, placement=task.settings.placement)
        analysis = analyze(recording)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return Outcome(task.path, key, task.content_sha256, error=describe_error(exc))
    name = result_file_name(task.path, key)
    row = summary_row(task, key, name, recording, analysis)
    document = {"source": _source_block(task, key, recording), **analysis.to_dict()}
    return Outcome(task.path, key, task.content_sha256, row=row,
                   result_json=json.dumps(document, indent=1, default=str) + "\n")


def describe_error(exc: BaseException) -> str:
    """One line: our own errors as they are, anything else named as the unexpected error it is."""
    if isinstance(exc, RetrorunError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc} (a bug in retrorun: please report it)"


def summary_row(task: AnalysisTask, key: str, result_name: str, recording, analysis) -> dict[str, Any]:
    """One row of the summary table (ROW_FIELDS): the source and every summary figure."""
    summary = asdict(analysis.summary)
    notes = summary.pop("notes")
    row: dict[str, Any] = {"path": task.path, "result_file": f"{RESULTS_FOLDER}/{result_name}",
                           "content_sha256": task.content_sha256, "key": key,
                           "format": recording.metadata.get("format", "canonical"), "samples": len(recording)}
    row.update({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in summary.items()})
    row["notes"] = "; ".join(notes)
    row["settings"] = task.settings.key_text()
    return row


def _source_block(task: AnalysisTask, key: str, recording) -> dict[str, Any]:
    return {"path": task.path, "content_sha256": task.content_sha256, "key": key,
            "settings": json.loads(task.settings.key_text()), "placement": recording.placement,
            "samples": len(recording), "sampling_rate_hz": recording.sampling_rate_hz,
            "duration_s": recording.duration_s, "start_time": recording.start_time,
            "metadata": recording.metadata}


# ---------------------------------------------------------------- runners: where the worker functions run

class LocalRunner:
    """Runs worker functions in this process (jobs=1) or a pool of `jobs` processes (spawned, so the
    workers start clean whatever this process holds)."""

    def __init__(self, jobs: int = 1):
        if jobs < 1:
            raise InputError("the number of jobs must be at least 1", found=str(jobs))
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalRunner":
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def map_unordered(self, fn: Callable, items: list) -> Iterator[tuple[Any, Any, BaseException | None]]:
        """(item, result, error) for each item, in the order they finish."""
        if self._pool is None:
            for item in items:
                yield item, fn(item), None
            return
        futures = {self._pool.submit(fn, item): item for item in items}
        for future in as_completed(futures):
            error = future.exception()
            yield futures[future], (None if error else future.result()), error


class DaskRunner:
    """Runs worker functions on a Dask cluster: a Client, a scheduler address, or 'local' (a
    LocalCluster of `jobs` single-threaded worker processes on this machine)."""

    def __init__(self, target, jobs: int = 1):
        self.target = target
        self.jobs = jobs
        self._client = None
        self._owned: list = []

    def __enter__(self) -> "DaskRunner":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise RetrorunError("--dask needs dask.distributed: pip install 'retrorun[dask]'") from None
        if not isinstance(self.target, str):
            self._client = self.target
            return self
        try:
            if self.target == LOCAL_DASK:
                cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                self._owned.append(cluster)
                self._client = Client(cluster)
            else:
                self._client = Client(self.target, timeout="20s")
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            raise RetrorunError(f"cannot reach the Dask scheduler at {self.target}: {exc}") from None
        self._owned.insert(0, self._client)
        return self

    def __exit__(self, *exc) -> None:
        for thing in self._owned:
            thing.close()
        self._owned.clear()

    def map_unordered(self, fn: Callable, items: list) -> Iterator[tuple[Any, Any, BaseException | None]]:
        from distributed import as_completed as dask_completed
        if not items:
            return
        futures = self._client.map(fn, items, pure=False)
        owner = {future.key: item for future, item in zip(futures, items)}
        for future in dask_completed(futures):
            try:
                yield owner[future.key], future.result(), None
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its recordings, not the batch
                yield owner[future.key], None, exc


def make_runner(jobs: int = 1, dask=None):
    """A LocalRunner, or a DaskRunner when `dask` is an address, 'local' or a Client."""
    return LocalRunner(jobs) if dask is None else DaskRunner(dask, jobs)


# ---------------------------------------------------------------- the output folder

class ResultStore:
    """The output folder: result JSON files and the summary database (written by this process only)."""

    def __init__(self, outdir: str | Path):
        self.outdir = Path(outdir)
        if self.outdir.exists() and not self.outdir.is_dir():
            raise InputError("the output must be a folder", path=self.outdir, found="a file")
        (self.outdir / RESULTS_FOLDER).mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.outdir / SUMMARY_DB)
            self._create_tables()
        except sqlite3.DatabaseError as exc:
            raise InputError("the summary database cannot be used", path=self.outdir / SUMMARY_DB,
                             found=str(exc), expected="an SQLite file written by retrorun batch") from None

    def _create_tables(self) -> None:
        columns = ", ".join(f'"{name}" {_sql_type(name)}' for name in ROW_FIELDS if name != "key")
        self.db.execute(f'CREATE TABLE IF NOT EXISTS recordings (key TEXT PRIMARY KEY, {columns})')
        have = {row[1] for row in self.db.execute("PRAGMA table_info(recordings)")}
        for name in ROW_FIELDS:  # a newer retrorun may report more summary figures
            if name not in have:
                self.db.execute(f'ALTER TABLE recordings ADD COLUMN "{name}" {_sql_type(name)}')
        self.db.execute("CREATE TABLE IF NOT EXISTS failures (path TEXT, error TEXT)")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done_keys(self) -> set[str]:
        """Keys of results already here (row in the database and its JSON file present)."""
        rows = self.db.execute("SELECT key, result_file FROM recordings").fetchall()
        return {key for key, name in rows if (self.outdir / name).is_file()}

    def add(self, outcome: Outcome) -> None:
        """Write one result's JSON, then its row (so a row always has its file)."""
        atomic_write(self.outdir / outcome.row["result_file"], outcome.result_json.encode())
        names = ", ".join(f'"{n}"' for n in ROW_FIELDS)
        marks = ", ".join("?" for _ in ROW_FIELDS)
        self.db.execute(f"INSERT OR REPLACE INTO recordings ({names}) VALUES ({marks})",
                        [outcome.row[n] for n in ROW_FIELDS])
        self.db.commit()

    def note_path(self, key: str, path: str) -> None:
        """A skipped recording's current path (it may have been renamed or moved)."""
        self.db.execute("UPDATE recordings SET path = ? WHERE key = ?", (path, key))
        self.db.commit()

    def set_failures(self, failures: list[Failure]) -> None:
        self.db.execute("DELETE FROM failures")
        self.db.executemany("INSERT INTO failures VALUES (?, ?)", [(f.path, f.error) for f in failures])
        self.db.commit()

    def export_csv(self) -> int:
        """Write summary.csv from the database (sorted by path); the number of rows."""
        names = ", ".join(f'"{n}"' for n in ROW_FIELDS)
        rows = self.db.execute(f"SELECT {names} FROM recordings ORDER BY path, key").fetchall()
        lines = _csv_text(ROW_FIELDS, rows)
        atomic_write(self.outdir / SUMMARY_CSV, lines.encode())
        return len(rows)


def _sql_type(name: str) -> str:
    types = {f.name: f.type for f in fields(Summary)}
    kind = str(types.get(name, "str"))
    return {"int": "INTEGER", "float": "REAL"}.get(kind, "INTEGER" if name == "samples" else "TEXT")


def _csv_text(header: tuple[str, ...], rows: list[tuple]) -> str:
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


# ---------------------------------------------------------------- the batch

def run_batch(paths: Iterable[str | Path], outdir: str | Path, *, jobs: int = 1, dask=None,
              settings: BatchSettings | None = None, progress: ProgressCallback | None = None) -> BatchReport:
    """Analyse every recording under `paths` into `outdir`, skipping those already there.

    jobs: worker processes (or LocalCluster workers with dask='local'). dask: None (local processes), a
    scheduler address such as 'tcp://10.0.0.5:8786', 'local', or a `distributed.Client`. Bad recordings
    are reported in the result, never raised; errors about the batch itself (output folder, scheduler)
    raise RetrorunError.
    """
    if jobs < 1:
        raise InputError("the number of jobs must be at least 1", found=str(jobs))
    settings = settings or BatchSettings()
    progress = progress or (lambda phase, done, total: None)
    outdir = Path(outdir)
    recordings, failed = find_recordings(paths, exclude=outdir)
    if not recordings and not failed:
        raise InputError("no recordings found", found=", ".join(str(p) for p in paths) or "no paths",
                         expected=f"recording files ({', '.join(RECORDING_SUFFIXES)}) or folders holding them")
    report = BatchReport(outdir=outdir, recording_count=len(recordings) + len(failed), failed=failed)
    with ResultStore(outdir) as store, make_runner(jobs, dask) as runner:
        hashes = _fingerprint_all(runner, recordings, report, progress)
        tasks = _tasks_to_run(hashes, settings, store, report)
        _analyse_all(runner, tasks, store, report, progress)
        report.failed.sort(key=lambda f: f.path)
        store.set_failures(report.failed)
        report.summary_row_count = store.export_csv()
    return report


def _fingerprint_all(runner, recordings: list[Path], report: BatchReport,
                     progress: ProgressCallback) -> dict[str, str]:
    """Content hash of every readable recording, by path; unreadable ones go to report.failed."""
    hashes: dict[str, str] = {}
    items = [str(p) for p in recordings]
    for done, (path, result, error) in enumerate(runner.map_unordered(fingerprint, items), start=1):
        if error is not None or result.error is not None:
            report.failed.append(Failure(path, result.error if error is None else describe_error(error)))
        else:
            hashes[path] = result.content_sha256
        progress("reading", done, len(items))
    return dict(sorted(hashes.items()))


def _tasks_to_run(hashes: dict[str, str], settings: BatchSettings, store: ResultStore,
                  report: BatchReport) -> list[AnalysisTask]:
    """Recordings not yet in the output folder, each content once."""
    done = store.done_keys()
    first_with_key: dict[str, str] = {}
    tasks = []
    for path, digest in hashes.items():
        key = result_key(digest, settings)
        if key in done:
            report.skipped[path] = "already analysed (same content and settings)"
            store.note_path(key, path)
        elif key in first_with_key:
            report.skipped[path] = f"same content as {first_with_key[key]}"
        else:
            first_with_key[key] = path
            tasks.append(AnalysisTask(path, digest, settings))
    return tasks


def _analyse_all(runner, tasks: list[AnalysisTask], store: ResultStore, report: BatchReport,
                 progress: ProgressCallback) -> None:
    progress("analysing", 0, len(tasks))
    for done, (task, outcome, error) in enumerate(runner.map_unordered(analyse_one, tasks), start=1):
        if error is not None:
            report.failed.append(Failure(task.path, describe_error(error)))
        elif outcome.error is not None:
            report.failed.append(Failure(outcome.path, outcome.error))
        else:
            store.add(outcome)
            report.analysed.append(outcome.path)
        progress("analysing", done, len(tasks))
    report.analysed.sort()
