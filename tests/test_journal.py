"""The crash-safe journal: what is appended comes back, torn and garbage tails cost only what they touch."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sensors import journal
from sensors.errors import InputError, RetrorunError
from sensors.journal import JournalGap, JournalWriter, recover

RATE_HZ = 100.0


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def frames(n_frames: int, per_frame: int = 10, seed: int = 0, skip: set[int] = frozenset()):
    """(first_index, time_s, acc_g) of consecutive frames; frames numbered in `skip` are left out."""
    rng = np.random.default_rng(seed)
    for k in range(n_frames):
        first = k * per_frame
        index = np.arange(first, first + per_frame)
        if k not in skip:
            yield first, 5.0 + index / RATE_HZ, rng.normal(0, 1, (per_frame, 3)) + [0, 0, 1]


def write_journal(path, n_frames=20, per_frame=10, skip=frozenset(), close=True, clock=None):
    written = list(frames(n_frames, per_frame, skip=skip))
    w = JournalWriter(path, sampling_rate_hz=RATE_HZ, placement="shank", device="test-device",
                      start_time="2026-01-01T00:00:00Z", clock_s=clock or FakeClock())
    for first, t, a in written:
        w.append_samples(first, t, a)
    if close:
        w.close()
    return w, written


def test_round_trip_of_a_clean_journal(tmp_path):
    _, written = write_journal(tmp_path / "j.rrj")
    got = recover(tmp_path / "j.rrj")
    assert got.clean_end
    rec = got.recording
    np.testing.assert_array_equal(rec.acc_g, np.concatenate([a for _, _, a in written]))
    np.testing.assert_allclose(rec.time_s, np.arange(200) / RATE_HZ)
    assert rec.gaps == [] and rec.placement == "shank" and rec.sampling_rate_hz == RATE_HZ
    assert rec.metadata["device"] == "test-device" and rec.start_time == "2026-01-01T00:00:00Z"


def test_a_journal_never_closed_still_recovers(tmp_path):
    w, _ = write_journal(tmp_path / "j.rrj", close=False)
    got = recover(tmp_path / "j.rrj")
    assert not got.clean_end and len(got.recording) == 200
    w.close()


def test_missing_frames_become_gaps_of_exact_length(tmp_path):
    write_journal(tmp_path / "j.rrj", skip={5, 6})
    rec = recover(tmp_path / "j.rrj").recording
    assert len(rec) == 180
    assert rec.gaps == [pytest.approx((0.49, 0.70))]
    assert rec.metadata["lost_samples"] == 20


def test_gap_records_are_kept_and_added_when_indices_do_not_show_them(tmp_path):
    w, _ = write_journal(tmp_path / "j.rrj", close=False)
    w.append_gap(JournalGap(5.5, 5.6, 0, "link dropped"))
    w.append_event({"event": "disconnect", "reason": 8})
    w.close()
    got = recover(tmp_path / "j.rrj")
    assert got.gap_records == [JournalGap(5.5, 5.6, 0, "link dropped")]
    assert got.events == [{"event": "disconnect", "reason": 8}]
    assert got.recording.gaps == [pytest.approx((0.5, 0.6))]


def test_replayed_samples_are_kept_once(tmp_path):
    w, written = write_journal(tmp_path / "j.rrj", close=False)
    first, t, a = written[3]
    w.append_samples(first, t, a)  # a device replaying its backlog
    w.close()
    got = recover(tmp_path / "j.rrj")
    assert got.duplicate_samples == 10 and len(got.recording) == 200


@pytest.mark.parametrize("cut", [1, 7, 100, 333])
def test_a_truncated_tail_loses_only_the_torn_frame(tmp_path, cut):
    path = tmp_path / "j.rrj"
    write_journal(path, close=False)
    data = path.read_bytes()
    path.write_bytes(data[:-cut])
    frame_bytes = journal.RECORD_HEAD.size + journal.SAMPLES_HEAD.size + 32 * 10 + journal.RECORD_CRC.size
    got = recover(path)
    assert len(got.recording) == 200 - 10 * -(-cut // frame_bytes)
    assert not got.clean_end


def test_a_garbage_tail_and_a_corrupt_middle_are_skipped(tmp_path):
    path = tmp_path / "j.rrj"
    write_journal(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0xFF                       # corrupts exactly one frame
    data += b"\xa5\x5a\x02garbage" * 20
    path.write_bytes(bytes(data))
    got = recover(path)
    assert len(got.recording) == 190 and len(got.recording.gaps) == 1
    assert got.discarded_bytes > 0 and got.clean_end


def test_fsync_happens_at_least_once_per_interval(tmp_path):
    clock = FakeClock()
    w = JournalWriter(tmp_path / "j.rrj", sampling_rate_hz=RATE_HZ, clock_s=clock)
    base = w.fsync_count
    for first, t, a in frames(30):
        clock.now_s += 0.125                   # eight frames a second, 3.75 s in all
        w.append_samples(first, t, a)
    assert w.fsync_count - base == 3
    w.close()


def test_not_a_journal_and_empty_journal_are_input_errors(tmp_path):
    (tmp_path / "x.csv").write_text("time_s,acc_x\n")
    with pytest.raises(InputError, match="not a retrorun journal"):
        recover(tmp_path / "x.csv")
    JournalWriter(tmp_path / "e.rrj", sampling_rate_hz=RATE_HZ).close()
    with pytest.raises(InputError, match="no samples"):
        recover(tmp_path / "e.rrj")
    with pytest.raises(InputError, match="cannot read"):
        recover(tmp_path / "missing.rrj")


def test_finalise_writes_the_canonical_csv(tmp_path):
    import sensors
    write_journal(tmp_path / "j.rrj", skip={3})
    journal.finalise(tmp_path / "j.rrj", tmp_path / "out.csv")
    rec = sensors.load(tmp_path / "out.csv")
    assert len(rec) == 190 and rec.placement == "shank" and len(rec.gaps) == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=600), with_magic=st.booleans())
def test_arbitrary_bytes_only_raise_our_errors(tmp_path, garbage, with_magic):
    path = tmp_path / "g.rrj"
    path.write_bytes((journal.MAGIC if with_magic else b"") + garbage)
    try:
        recover(path)
    except RetrorunError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_journal_recovers_a_subset_or_raises_our_error(tmp_path, data):
    path = tmp_path / "d.rrj"
    path.unlink(missing_ok=True)
    _, written = write_journal(path, n_frames=6)
    raw = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    flips = data.draw(st.lists(st.integers(len(journal.MAGIC), len(raw) - 1), max_size=4), label="flips")
    for pos in flips:
        raw[pos] ^= 0x55
    path.write_bytes(bytes(raw[:cut]))
    try:
        rec = recover(path).recording
    except RetrorunError:
        return
    sent = {tuple(row) for _, _, a in written for row in a}
    assert len(rec) <= 60 and all(tuple(row) in sent for row in rec.acc_g)
