"""Soft-landing and cadence guidance: the rules in guidance_rules.json applied to one session against the
runner's own baseline for the same direction and placement.

The rules are data (metric, condition, plain-language message, published source); this module only loads
them, builds the baseline, computes the metrics the conditions name and picks the rules that hold.
Sources of every threshold: the rules file, rendered in reports by `threshold_sources`.
"""
from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from sensors.errors import InputError

from .session import SessionStats

RULES_PATH = Path(__file__).with_name("guidance_rules.json")
RULES_FORMAT = "retrorun guidance rules"
SUPPORTED_RULES_VERSIONS = (1,)
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
             "!=": operator.ne}
LEVELS = ("good", "same", "attention", "baseline", "unknown", "info")


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    unit: str
    meaning: str
    source: str


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    operand: Any
    """A number, a threshold name (optionally prefixed '-'), or a list of strings for 'in'."""


@dataclass(frozen=True)
class Rule:
    id: str
    topic: str
    level: str
    when: tuple[Condition, ...]
    message: str
    sources: tuple[str, ...]
    citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoHistoryDefault:
    what: str
    value: str
    source: str


@dataclass(frozen=True)
class Rules:
    version: int
    thresholds: dict[str, Threshold]
    rules: tuple[Rule, ...]
    first_match_topics: tuple[str, ...]
    no_history_message: str
    no_history_defaults: tuple[NoHistoryDefault, ...]

    def value(self, name: str) -> float:
        return self.thresholds[name].value


@dataclass(frozen=True)
class Baseline:
    """The runner's own reference for one direction and placement: medians over their earliest sessions
    that had enough steps (`session_count` of them, 0 = no history)."""

    direction: str
    placement: str
    session_count: int
    impact_g_median: float = float("nan")
    impact_steps: int = 0
    cadence_spm: float = float("nan")
    cadence_steps: int = 0
    sampling_rate_hz: float = float("nan")
    session_ids: tuple = ()

    @property
    def has_history(self) -> bool:
        return self.session_count > 0


@dataclass(frozen=True)
class Targets:
    """Target bands, from the baseline when there is one, else from this session (provisional)."""

    basis: str
    impact_g_low: float
    impact_g_high: float
    cadence_spm_low: float
    cadence_spm_high: float
    preferred_cadence_spm: float
    reference_impact_g: float


@dataclass(frozen=True)
class Finding:
    rule_id: str
    topic: str
    level: str
    message: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    stats: SessionStats
    baseline: Baseline
    targets: Targets
    findings: tuple[Finding, ...]
    rules_version: int
    no_history_note: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def finding(self, topic: str) -> Finding | None:
        return next((f for f in self.findings if f.topic == topic), None)

    @property
    def headline(self) -> str:
        """One plain-language line: the impact finding, then the cadence finding."""
        parts = [f.message for topic in ("impact", "cadence") if (f := self.finding(topic))]
        return " ".join(parts)


# ---------------------------------------------------------------------------------------------- loading

def load_rules(path: str | Path | None = None) -> Rules:
    """Read and check a rules file (default: the package's guidance_rules.json)."""
    path = Path(path) if path else RULES_PATH
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("cannot read the guidance rules", path=path, found=exc.strerror) from None
    except ValueError as exc:
        raise InputError("guidance rules are not valid JSON", path=path, found=str(exc)) from None
    if doc.get("format") != RULES_FORMAT or doc.get("version") not in SUPPORTED_RULES_VERSIONS:
        raise InputError("not a supported guidance rules file", path=path,
                         found=f"format {doc.get('format')!r} version {doc.get('version')!r}",
                         expected=f"{RULES_FORMAT!r} version in {SUPPORTED_RULES_VERSIONS}")
    thresholds = {name: Threshold(name, float(t["value"]), t["unit"], t["meaning"], t["source"])
                  for name, t in doc["thresholds"].items()}
    rules = tuple(_parse_rule(r, thresholds, path) for r in doc["rules"])
    no_history = doc["no_history"]
    return Rules(version=int(doc["version"]), thresholds=thresholds, rules=rules,
                 first_match_topics=tuple(doc.get("first_match_topics", ())),
                 no_history_message=no_history["message"],
                 no_history_defaults=tuple(NoHistoryDefault(d["what"], d["value"], d["source"])
                                           for d in no_history["defaults"]))


def _parse_rule(raw: dict, thresholds: dict[str, Threshold], path: Path) -> Rule:
    conditions = []
    for metric, op, operand in raw["when"]:
        if op not in OPERATORS and op != "in":
            raise InputError("unknown operator in a guidance rule", path=path, column=raw["id"], found=op,
                             expected=" ".join(OPERATORS) + " in")
        if isinstance(operand, str) and operand.lstrip("-") not in thresholds:
            raise InputError("guidance rule names an unknown threshold", path=path, column=raw["id"],
                             found=operand, expected="one of " + ", ".join(thresholds))
        conditions.append(Condition(metric, op, operand))
    for name in raw.get("sources", []):
        if name not in thresholds:
            raise InputError("guidance rule cites an unknown threshold", path=path, column=raw["id"], found=name)
    if raw["level"] not in LEVELS:
        raise InputError("unknown level in a guidance rule", path=path, column=raw["id"], found=raw["level"],
                         expected=", ".join(LEVELS))
    return Rule(id=raw["id"], topic=raw["topic"], level=raw["level"], when=tuple(conditions),
                message=raw["message"], sources=tuple(raw.get("sources", ())),
                citations=tuple(raw.get("citations", ())))


# --------------------------------------------------------------------------------------------- baseline

def build_baseline(history: Iterable[SessionStats], direction: str, placement: str, rules: Rules | None = None,
                   ids: Sequence | None = None) -> Baseline:
    """The baseline from earlier sessions (oldest first): the medians of the earliest `baseline_sessions`
    sessions of the same direction and placement that each have at least `min_steps` steps for the value."""
    rules = rules or load_rules()
    history = list(history)
    ids = list(ids) if ids is not None else list(range(len(history)))
    wanted = int(rules.value("baseline_sessions"))
    min_steps = rules.value("min_steps")
    same = [(i, s) for i, s in zip(ids, history) if s.direction == direction and s.placement == placement]
    impact = [(i, s) for i, s in same if s.impact_steps >= min_steps and math.isfinite(s.impact_g_median)][:wanted]
    cadence = [(i, s) for i, s in same if s.cadence_steps >= min_steps and math.isfinite(s.cadence_spm)][:wanted]
    used = {i: s for i, s in impact + cadence}
    if not used:
        return Baseline(direction=direction, placement=placement, session_count=0)
    rates = [s.sampling_rate_hz for s in used.values() if math.isfinite(s.sampling_rate_hz)]
    return Baseline(
        direction=direction, placement=placement, session_count=len(used),
        impact_g_median=_median([s.impact_g_median for _, s in impact]),
        impact_steps=sum(s.impact_steps for _, s in impact),
        cadence_spm=_median([s.cadence_spm for _, s in cadence]),
        cadence_steps=sum(s.cadence_steps for _, s in cadence),
        sampling_rate_hz=_median(rates), session_ids=tuple(used))


def _median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    if not n:
        return float("nan")
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


# ----------------------------------------------------------------------------------------------- targets

def targets_for(stats: SessionStats, baseline: Baseline, rules: Rules) -> Targets:
    """Impact band (20-30 % below the reference) and cadence band (+5 to +10 % of the preferred rate);
    the reference is the baseline when it has the value, else this session (provisional)."""
    has_impact = baseline.has_history and math.isfinite(baseline.impact_g_median)
    has_cadence = baseline.has_history and math.isfinite(baseline.cadence_spm)
    ref_impact = baseline.impact_g_median if has_impact else stats.impact_g_median
    preferred = baseline.cadence_spm if has_cadence else stats.cadence_spm
    return Targets(
        basis="baseline" if (has_impact or has_cadence) else "this session (provisional)",
        impact_g_low=ref_impact * (1 + rules.value("impact_target_low_pct") / 100.0),
        impact_g_high=ref_impact * (1 + rules.value("impact_target_high_pct") / 100.0),
        cadence_spm_low=preferred * (1 + rules.value("cadence_target_low_pct") / 100.0),
        cadence_spm_high=preferred * (1 + rules.value("cadence_target_high_pct") / 100.0),
        preferred_cadence_spm=preferred, reference_impact_g=ref_impact)


# -------------------------------------------------------------------------------------------- evaluation

def session_metrics(stats: SessionStats, baseline: Baseline, targets: Targets, rules: Rules) -> dict[str, Any]:
    """Every value a rule condition or message may name."""
    nan = float("nan")
    has_impact = int(baseline.has_history and math.isfinite(baseline.impact_g_median))
    has_cadence = int(baseline.has_history and math.isfinite(baseline.cadence_spm))
    impact_change_g = stats.impact_g_median - baseline.impact_g_median if has_impact else nan
    cadence_change_spm = stats.cadence_spm - baseline.cadence_spm if has_cadence else nan
    rate_differs = (baseline.has_history and math.isfinite(baseline.sampling_rate_hz)
                    and abs(baseline.sampling_rate_hz - stats.sampling_rate_hz) > 0.05 * stats.sampling_rate_hz)
    metrics = {name: t.value for name, t in rules.thresholds.items()}
    metrics.update(
        direction=stats.direction, placement=stats.placement, sampling_rate_hz=stats.sampling_rate_hz,
        warmup_min=stats.warmup_s / 60.0,
        impact_steps=stats.impact_steps, cadence_steps=stats.cadence_steps, clipped_steps=stats.clipped_steps,
        impact_g_median=stats.impact_g_median, cadence_spm=stats.cadence_spm,
        has_impact_baseline=has_impact, has_cadence_baseline=has_cadence,
        baseline_impact_g=baseline.impact_g_median, baseline_cadence_spm=baseline.cadence_spm,
        baseline_rate_hz=baseline.sampling_rate_hz, baseline_rate_differs=int(rate_differs),
        impact_change_g=impact_change_g,
        impact_change_pct=100.0 * impact_change_g / baseline.impact_g_median if has_impact else nan,
        cadence_change_spm=cadence_change_spm,
        cadence_change_pct=100.0 * cadence_change_spm / baseline.cadence_spm if has_cadence else nan,
        impact_target_low_g=targets.impact_g_low, impact_target_high_g=targets.impact_g_high,
        cadence_target_low_spm=targets.cadence_spm_low, cadence_target_high_spm=targets.cadence_spm_high)
    return metrics


def condition_holds(cond: Condition, metrics: dict[str, Any], rules: Rules) -> bool:
    """A condition on a missing (NaN or absent) value never holds."""
    value = metrics.get(cond.metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if cond.op == "in":
        return value in cond.operand
    operand = cond.operand
    if isinstance(operand, str):
        operand = -rules.value(operand[1:]) if operand.startswith("-") else rules.value(operand)
    return bool(OPERATORS[cond.op](value, operand))


def evaluate(stats: SessionStats, baseline: Baseline, rules: Rules | None = None) -> Verdict:
    """Apply the rules to one session: in first-match topics the first rule that holds, elsewhere all."""
    rules = rules or load_rules()
    targets = targets_for(stats, baseline, rules)
    metrics = session_metrics(stats, baseline, targets, rules)
    findings: list[Finding] = []
    decided: set[str] = set()
    for rule in rules.rules:
        if rule.topic in decided:
            continue
        if all(condition_holds(c, metrics, rules) for c in rule.when):
            sources = [rules.thresholds[name].source for name in rule.sources] + list(rule.citations)
            findings.append(Finding(rule.id, rule.topic, rule.level, rule.message.format_map(metrics),
                                    _unique_citations(sources)))
            if rule.topic in rules.first_match_topics:
                decided.add(rule.topic)
    note = None if baseline.has_history else rules.no_history_message.format_map(metrics)
    return Verdict(stats=stats, baseline=baseline, targets=targets, findings=tuple(findings),
                   rules_version=rules.version, no_history_note=note, metrics=metrics)


def _unique_citations(sources: list[str]) -> tuple[str, ...]:
    """Split '; '-joined citations and drop repeats, keeping their order."""
    seen: dict[str, None] = {}
    for text in sources:
        for part in text.split("; "):
            seen.setdefault(part.strip(), None)
    return tuple(seen)


def threshold_sources(rules: Rules | None = None) -> list[Threshold]:
    """Every threshold with its value, unit, meaning and source, for the report's sources section."""
    rules = rules or load_rules()
    return list(rules.thresholds.values())
