"""The short readable summary `retrorun analyze` prints."""
from __future__ import annotations

import math
from pathlib import Path

from sensors import Recording
from sensors.cadence import CadenceTrack

from .analysis import Analysis
from .cadence import CADENCE_NOTE, NO_IMPACT


def _clock(seconds: float) -> str:
    tenths = int(round(max(seconds, 0.0) * 10))
    minutes, tenths = divmod(tenths, 600)
    return f"{minutes}:{tenths / 10:04.1f}"


def _num(value: float, fmt: str, unit: str) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:{fmt}} {unit}"


def summary_text(path: Path | str, rec: Recording, result: Analysis) -> str:
    s = result.summary
    gaps = "none" if not s.gap_count else f"{s.gap_count}, {s.gap_duration_s:.1f} s in all"
    cadence_file = isinstance(rec, CadenceTrack)
    lines = [
        f"{path}",
        f"  placement   {s.placement}" + ("" if s.placement_source == "stated" else f" ({s.placement_source})"),
        f"  {'readings' if cadence_file else 'samples '}    {len(rec)} at {s.sampling_rate_hz:.1f} Hz over "
        f"{_clock(s.duration_s)} (gaps: {gaps})",
        "  units       " + ("cadence file (foot pod)" if cadence_file else str(rec.metadata.get('unit_conversion', 'g'))),
        f"  steps       {s.step_count}" + (f" ({s.estimated_step_count} of the other foot estimated)"
                                           if s.estimated_step_count else ""),
        f"  running     {_clock(s.running_duration_s)} ({s.running_step_count} steps"
        + (f" in {s.running_interval_count} interval(s), {s.turn_count} turn(s))" if s.running_interval_count else ")"),
        f"  direction   {s.direction}" + (f" ({s.direction_confidence:.0%} of steps agree; {s.direction_basis})"
                                          if s.direction_confidence is not None else f" ({s.direction_basis})"),
        f"  cadence     {_num(s.cadence_spm, '.1f', 'steps/min')} (median while running)",
        f"  impact      {NO_IMPACT}" if cadence_file else
        f"  impact      {_num(s.impact_g_median, '.2f', 'g')} median, {_num(s.impact_g_p90, '.2f', 'g')} p90"
        " (peak resultant within 100 ms of contact)",
    ]
    if math.isfinite(s.contact_ms_median):
        lines.append(f"  contact     {s.contact_ms_median:.0f} ms median, flight {_num(s.flight_ms_median, '.0f', 'ms')}")
    lines += [f"  note: {n}" for n in s.notes if n != CADENCE_NOTE]
    return "\n".join(lines)
