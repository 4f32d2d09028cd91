"""`retrorun batch`: many recordings at once, in parallel processes or on a Dask cluster."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from sensors.errors import RetrorunError
from sensors.recording import PLACEMENTS

EPILOG_BATCH = """\
examples:
  retrorun batch runs/ -o results/                      # every recording under runs/, all cores
  retrorun batch a.npz b.csv exports/*.zip -o results/ --jobs 2
  retrorun batch runs/ -o results/ --placement sacrum   # files without a '# placement:' line
  retrorun batch /shared/runs -o results/ --dask local                # a Dask LocalCluster here
  retrorun batch /shared/runs -o results/ --dask tcp://10.0.0.5:8786  # a running Dask scheduler

Folders are searched recursively for recordings (.csv, .npz, .zip, .txt, .tsv, .xlsx, .xls; not
*.truth.csv nor hidden files); a folder that is itself an unzipped app export counts as one recording.
OUTDIR gets recordings/<name>.<key>.json per recording (the full analysis, docs/output-schema.md), and
summary.csv and summary.sqlite (one row per recording; the SQLite file also lists this run's failures).
Recordings already in OUTDIR (same content and settings, any file name) are skipped. Bad recordings
are listed with their errors at the end and the exit code is then 2; the good ones are all written.
With --dask the workers read the recordings, so the paths must be valid on them; see docs/performance.md.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="analyse many recordings in parallel into one folder with a summary table",
                       description="Analyse many recordings in parallel processes (or on a Dask cluster), "
                                   "skipping those already done.", epilog=EPILOG_BATCH,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="recordings and folders of recordings")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="folder for the results")
    p.add_argument("--jobs", "-j", type=int, default=default_jobs(), metavar="N",
                   help=f"parallel worker processes (default: the cores available, here {default_jobs()})")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a "
                        "LocalCluster of --jobs workers; needs pip install 'retrorun[dask]'")
    p.add_argument("--placement", choices=PLACEMENTS + ("auto",),
                   help="where the sensor was worn, for every recording; auto reads it from each signal "
                        "(default: each file's own, else auto)")
    p.add_argument("--unit", "--units", dest="unit", metavar="UNIT",
                   help="acceleration unit of every recording: g, m/s^2 or mg (default: detected)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")
    p.set_defaults(func=cmd_batch)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class TextProgress:
    """A progress bar on a stream: redrawn in place on a terminal, a line per tenth otherwise."""

    WIDTH_CHARS = 30
    REDRAW_EVERY_S = 0.1

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.is_terminal = stream.isatty()
        self.started_s = time.monotonic()
        self._last_draw_s = 0.0
        self._last_tenth: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total == 0:
            return
        if self.is_terminal:
            self._redraw(phase, done, total)
        else:
            self._log_line(phase, done, total)

    def _redraw(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_draw_s < self.REDRAW_EVERY_S:
            return
        self._last_draw_s = now
        self.stream.write("\r" + self.line(phase, done, total) + ("\n" if done == total else ""))
        self.stream.flush()

    def _log_line(self, phase: str, done: int, total: int) -> None:
        tenth = done * 10 // total
        if done and tenth > self._last_tenth.get(phase, -1):
            self._last_tenth[phase] = tenth
            self.stream.write(self.line(phase, done, total) + "\n")
            self.stream.flush()

    def line(self, phase: str, done: int, total: int) -> str:
        filled = self.WIDTH_CHARS * done // total
        elapsed_s = time.monotonic() - self.started_s
        return (f"{phase:<9} [{'#' * filled}{'.' * (self.WIDTH_CHARS - filled)}] {done}/{total} "
                f"{elapsed_s:6.1f} s")


def cmd_batch(args: argparse.Namespace) -> None:
    from ..batch import BatchSettings, run_batch

    progress = None if args.no_progress else TextProgress(sys.stderr)
    started_s = time.monotonic()
    report = run_batch(args.paths, args.output, jobs=args.jobs, dask=args.dask,
                       settings=BatchSettings(placement=args.placement, unit=args.unit), progress=progress)
    elapsed_s = time.monotonic() - started_s
    print(f"{report.recording_count} recordings: {len(report.analysed)} analysed, {len(report.skipped)} skipped "
          f"(already in {args.output} or repeated), {len(report.failed)} failed, in {elapsed_s:.1f} s")
    print(f"wrote {report.summary_csv} and {report.summary_db} ({report.summary_row_count} recordings in all)")
    if report.failed:
        print("failed:", file=sys.stderr)
        for failure in report.failed:
            print(f"  {failure.path}: {failure.error}", file=sys.stderr)
        raise RetrorunError(f"{len(report.failed)} of {report.recording_count} recordings failed (listed above); "
                            f"the others are in {args.output}")
