"""Guidance rules against hand-computed cases: no history, too few steps, baselines, targets, the MDC."""
import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import sensors
from analyzer import analyze
from analyzer.guidance import RULES_PATH, build_baseline, evaluate, load_rules
from analyzer.session import SessionStats, direction_of, session_stats
from sensors.errors import InputError


def stats(impact_g=10.0, cadence_spm=170.0, steps=400, direction="backward", placement="shank", rate_hz=200.0,
          clipped=0, impact_steps=None, cadence_steps=None) -> SessionStats:
    return SessionStats(placement=placement, direction=direction, direction_source="stated", sampling_rate_hz=rate_hz,
                        duration_s=1800.0, warmup_s=300.0, step_count=steps + 100, running_duration_s=steps / 3.0,
                        impact_steps=steps if impact_steps is None else impact_steps, impact_g_median=impact_g,
                        impact_g_p90=impact_g * 1.1, cadence_steps=steps if cadence_steps is None else cadence_steps,
                        cadence_spm=cadence_spm, clipped_steps=clipped)


HISTORY = [stats(10.0, 170.0), stats(5.0, 150.0, steps=20),          # second: too few steps, ignored
           stats(11.0, 172.0), stats(4.0, 160.0, direction="forward"),  # forward: other direction
           stats(2.5, 175.0, placement="sacrum"),                        # other placement
           stats(12.0, 174.0), stats(9.0, 180.0)]                        # last: beyond the earliest three


def by_topic(verdict):
    return {f.topic: f for f in verdict.findings if f.topic in ("impact", "cadence")}


def ids(verdict):
    return {f.rule_id for f in verdict.findings}


def test_rules_file_is_versioned_data_with_sources():
    doc = json.loads(RULES_PATH.read_text())
    assert doc["version"] == 1
    rules = load_rules()
    for rule in rules.rules:
        assert rule.message and rule.topic
        if rule.when and rule.topic in ("impact", "cadence"):
            assert rule.sources, rule.id        # every judged rule cites at least one threshold source
    for t in rules.thresholds.values():
        assert t.source and t.unit
    assert rules.value("mdc_impact_g") == 1.5 and rules.value("min_steps") == 25
    assert rules.value("warmup_s") == 300
    assert (rules.value("cadence_target_low_pct"), rules.value("cadence_target_high_pct")) == (5, 10)


def test_baseline_is_earliest_three_qualifying_sessions_of_same_direction_and_placement():
    base = build_baseline(HISTORY, "backward", "shank")
    # impacts 10, 11, 12 (the 20-step session, the forward and the sacrum ones are left out; 9.0 is the 4th)
    assert base.session_count == 3 and base.session_ids == (0, 2, 5)
    assert base.impact_g_median == 11.0 and base.impact_steps == 1200
    assert base.cadence_spm == 172.0


def test_no_history_uses_provisional_defaults_and_says_so():
    base = build_baseline([], "backward", "shank")
    v = evaluate(stats(10.0, 170.0), base)
    topics = by_topic(v)
    assert topics["impact"].rule_id == "impact-no-history" and topics["cadence"].rule_id == "cadence-no-history"
    assert v.no_history_note and "No earlier backward sessions with a shank sensor" in v.no_history_note
    # targets from this session: impact 20-30 % below 10 g; cadence +5..+10 % of 170
    assert v.targets.basis.startswith("this session")
    assert v.targets.impact_g_high == pytest.approx(8.0) and v.targets.impact_g_low == pytest.approx(7.0)
    assert v.targets.cadence_spm_low == pytest.approx(178.5) and v.targets.cadence_spm_high == pytest.approx(187.0)
    assert "about 8.0 g" in topics["impact"].message and "-187 steps/min" in topics["cadence"].message
    assert "Crowell & Davis 2011" in " ".join(topics["impact"].sources)
    assert "Heiderscheit et al. 2011" in " ".join(topics["cadence"].sources)
    # 10 g resultant at the shank is above the 8 g high-shock inclusion level: an informational note only
    assert "context-high-shock" in ids(v) and "data-caveat" in ids(v)
    assert load_rules().no_history_defaults and all(d.source for d in load_rules().no_history_defaults)


def test_too_few_steps_after_warmup():
    v = evaluate(stats(9.0, 180.0, impact_steps=24, cadence_steps=24), build_baseline(HISTORY, "backward", "shank"))
    topics = by_topic(v)
    assert topics["impact"].rule_id == "impact-too-few-steps" and "only 24" in topics["impact"].message
    assert "5-minute warm-up" in topics["impact"].message and "at least 25" in topics["impact"].message
    assert topics["cadence"].rule_id == "cadence-too-few-steps"
    assert topics["impact"].level == "unknown"


@pytest.mark.parametrize("impact_g, rule_id", [
    (8.6, "impact-softer-on-target"),   # -2.4 g, -21.8 %: beyond the MDC and the 20 % target
    (9.4, "impact-softer"),             # -1.6 g, -14.5 %: real, short of the target
    (9.5, "impact-softer"),             # -1.5 g: exactly the MDC counts
    (10.0, "impact-no-real-change"),    # -1.0 g: within the MDC
    (12.4, "impact-no-real-change"),    # +1.4 g
    (12.5, "impact-harder"),            # +1.5 g
])
def test_impact_against_baseline_and_mdc(impact_g, rule_id):
    v = evaluate(stats(impact_g, 172.0), build_baseline(HISTORY, "backward", "shank"))
    assert by_topic(v)["impact"].rule_id == rule_id
    assert v.metrics["impact_change_g"] == pytest.approx(impact_g - 11.0)
    assert v.targets.impact_g_high == pytest.approx(8.8) and v.targets.impact_g_low == pytest.approx(7.7)


def test_impact_message_numbers():
    v = evaluate(stats(8.6, 172.0), build_baseline(HISTORY, "backward", "shank"))
    msg = by_topic(v)["impact"].message
    assert "8.6 g against your backward baseline of 11.0 g, -22 %" in msg and "1.5 g" in msg


@pytest.mark.parametrize("cadence_spm, rule_id, pct", [
    (182.0, "cadence-on-target", 5.81),      # 182 / 172 = +5.8 %
    (189.0, "cadence-on-target", 9.88),
    (190.0, "cadence-above-target", 10.47),
    (175.0, "cadence-below-target", 1.74),
    (165.0, "cadence-below-target", -4.07),
])
def test_cadence_against_own_preferred(cadence_spm, rule_id, pct):
    v = evaluate(stats(11.0, cadence_spm), build_baseline(HISTORY, "backward", "shank"))
    assert by_topic(v)["cadence"].rule_id == rule_id
    assert v.metrics["cadence_change_pct"] == pytest.approx(pct, abs=0.01)
    assert v.targets.cadence_spm_low == pytest.approx(180.6) and v.targets.cadence_spm_high == pytest.approx(189.2)


def test_data_quality_and_placement_notes():
    base = build_baseline(HISTORY, "backward", "shank")
    v = evaluate(stats(11.0, 172.0, clipped=3, rate_hz=100.0), base)
    assert {"data-clipped", "data-low-rate", "data-rate-differs"} <= ids(v)
    assert "3 step(s) hit the sensor's range" in next(f.message for f in v.findings if f.rule_id == "data-clipped")
    sacrum = evaluate(stats(2.4, 175.0, placement="sacrum"), build_baseline(HISTORY, "backward", "sacrum"))
    assert "context-trunk-or-limb" in ids(sacrum) and "context-high-shock" not in ids(sacrum)
    assert "data-low-rate" not in ids(sacrum)
    # the one sacrum session (2.5 g) is the baseline: -0.1 g is no real change
    assert by_topic(sacrum)["impact"].rule_id == "impact-no-real-change"
    assert sacrum.baseline.session_count == 1 and sacrum.baseline.impact_g_median == 2.5


def test_other_direction_is_not_a_baseline():
    v = evaluate(stats(3.0, 160.0, direction="forward"), build_baseline(HISTORY[:3], "forward", "shank"))
    assert by_topic(v)["impact"].rule_id == "impact-no-history"


def test_bad_rules_file_is_an_input_error(tmp_path):
    doc = json.loads(RULES_PATH.read_text())
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps({**doc, "version": 99}))
    with pytest.raises(InputError, match="version 99"):
        load_rules(bad)
    doc["rules"][0]["when"] = [["impact_steps", "<", "no_such_threshold"]]
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="no_such_threshold"):
        load_rules(bad)
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_rules(bad)


def test_session_stats_exclude_warmup_and_walking():
    run = sensors.simulate("shank", "backward", duration_s=600, session=True, seed=2)
    result = analyze(run.recording)
    assert direction_of(run.recording) == ("unknown", "not stated (use --direction) and not detected")
    direction, source = direction_of(run.recording, None, result)      # what `analyze` detected
    assert (direction, source) == ("backward", f"detected, confidence {result.summary.direction_confidence:.2f}")
    s = session_stats(result, direction, source, warmup_s=300.0)
    steps = result.steps
    expected = steps[(steps.time_s >= 300) & steps.running & steps.impact_g.notna()]
    assert s.impact_steps == len(expected) and s.impact_g_median == pytest.approx(expected.impact_g.median())
    all_run = session_stats(result, direction, source, warmup_s=0.0)
    assert all_run.impact_steps > s.impact_steps > 25
    # a warm-up longer than the recording leaves nothing to judge
    none = session_stats(result, direction, source, warmup_s=700.0)
    assert none.impact_steps == 0 and math.isnan(none.impact_g_median)
    v = evaluate(none, build_baseline([], direction, "shank"))
    assert by_topic(v)["impact"].rule_id == "impact-too-few-steps"


def test_direction_stated_wins_and_bad_direction_refused():
    rec = sensors.Recording(time_s=np.arange(10) / 10, acc_g=np.tile([0, 0, 1.0], (10, 1)), placement="shank",
                            metadata={"direction": "forward", "simulator": {"direction": "forward"}})
    detected = SimpleNamespace(summary=SimpleNamespace(direction="backward", direction_confidence=0.93))
    # metadata records provenance: neither a `# direction:` line nor simulator settings are read
    assert direction_of(rec) == ("unknown", "not stated (use --direction) and not detected")
    assert direction_of(rec, None, detected) == ("backward", "detected, confidence 0.93")
    assert direction_of(rec, "forward", detected) == ("forward", "stated")
    assert direction_of(replace(rec, metadata={}), "backward") == ("backward", "stated")
    with pytest.raises(InputError, match="unknown direction"):
        direction_of(rec, "sideways")
