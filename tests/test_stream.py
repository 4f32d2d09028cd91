"""The streaming detector is the offline detector run incrementally (issue 7 parity)."""
import numpy as np
import pandas as pd
import pytest

from analyzer import analyze
from analyzer.stream import StreamingDetector, StreamSettings
from analyzer.validate import match_events
from sensors import InputError, simulate


def stream(rec, chunk: int, **kwargs) -> pd.DataFrame:
    detector = StreamingDetector(rec.placement, rec.sampling_rate_hz, **kwargs)
    out = [detector.push(rec.time_s[i:i + chunk], rec.acc_g[i:i + chunk]) for i in range(0, len(rec), chunk)]
    return pd.concat(out + [detector.flush()], ignore_index=True)


def agreement(streamed: pd.DataFrame, offline: pd.DataFrame, rate_hz: float) -> float:
    m = match_events(streamed.time_s, offline.time_s, 1.0 / rate_hz + 1e-9)
    return m.true_positives / max(len(streamed), len(offline))


@pytest.mark.parametrize("placement,direction", [("sacrum", "backward"), ("shank", "forward"),
                                                 ("phone_pocket", "backward"), ("wrist", "forward")])
def test_parity_with_offline_for_any_chunk_size(placement, direction):
    rec = simulate(placement, direction, cadence_spm=185, sampling_rate_hz=100, duration_s=40, seed=2).recording
    offline = analyze(rec).steps
    by_chunk = {chunk: stream(rec, chunk) for chunk in (1, 13, 1000)}
    for chunk, streamed in by_chunk.items():
        assert agreement(streamed, offline, 100) >= 0.99, chunk
    # processing happens at fixed sample counts: the chunking changes nothing at all
    pd.testing.assert_frame_equal(by_chunk[1], by_chunk[1000], check_dtype=False)
    pd.testing.assert_frame_equal(by_chunk[13], by_chunk[1000], check_dtype=False)


def test_parity_over_a_session_with_gaps():
    rec = simulate("phone_pocket", "backward", sampling_rate_hz=100, duration_s=300, seed=5, session=True,
                   jitter=0.2, drop_fraction=0.01).recording
    assert rec.gaps
    assert agreement(stream(rec, 250), analyze(rec).steps, 100) >= 0.99


def test_steps_are_final_exactly_when_the_data_reaches_the_decision_delay():
    rec = simulate("sacrum", "backward", sampling_rate_hz=100, duration_s=30, seed=3).recording
    delay_s = 2.0
    detector = StreamingDetector("sacrum", 100.0, StreamSettings(decision_delay_s=delay_s))
    latencies_s = []
    for i in range(len(rec)):            # one sample at a time: the emit time is the sample that completes it
        new = detector.push(rec.time_s[i:i + 1], rec.acc_g[i:i + 1])
        latencies_s += list(rec.time_s[i] - new.time_s)
    latencies_s = np.array(latencies_s)
    assert len(latencies_s) > 40
    # once the detector has its first analysable stretch, every step leaves with the sample at contact + delay
    settled = latencies_s[len(latencies_s) // 4:]
    assert (settled >= delay_s - 1e-9).all() and (settled < delay_s + 1 / 100 + 1e-9).all()


def test_bad_streams_are_refused():
    with pytest.raises(InputError, match="unknown placement"):
        StreamingDetector("knee", 100.0)
    detector = StreamingDetector("sacrum", 100.0)
    detector.push([0.0, 0.01], np.zeros((2, 3)))
    with pytest.raises(InputError, match="backwards"):
        detector.push([0.005], np.zeros((1, 3)))
    with pytest.raises(InputError, match="differ in length"):
        detector.push([1.0, 1.01], np.zeros((1, 3)))
