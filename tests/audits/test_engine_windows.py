"""Time windows of the audit engine: each row gets its own calendar's day, ISO week,
month, quarter or year."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


@pytest.mark.parametrize("window", ["day", "week", "month", "quarter", "year"])
def test_window_labels_match_the_calendar_row_by_row(window):
    """Labels come from the floored, encoded times; each row must still get its own
    calendar's window (ISO weeks across year ends included), NULL and bad text as NULL."""
    import datetime as dt

    from ombud.audits.engine.windows import window_labels

    rng = np.random.default_rng(3)
    start = dt.datetime(2019, 12, 25)
    times = [start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 8 * 366 * 24, 3000)]
    expected = {
        "day": lambda t: t.strftime("%Y-%m-%d"),
        "week": lambda t: f"{t.isocalendar()[0]}-W{t.isocalendar()[1]:02d}",
        "month": lambda t: t.strftime("%Y-%m"),
        "quarter": lambda t: f"{t.year}-Q{(t.month - 1) // 3 + 1}",
        "year": lambda t: t.strftime("%Y"),
    }[window]
    as_timestamps = pa.array([*times, None], pa.timestamp("s"))
    as_text = pa.array([*(t.isoformat() for t in times), "not a date"])
    for array in (as_timestamps, as_text):
        labels = window_labels(array, window).to_pylist()
        assert labels == [*(expected(t) for t in times), None]


def test_window_labels_of_times_centuries_apart_encode_only_those_present():
    from ombud.audits.engine.windows import window_labels

    array = pa.array(["1900-01-01", None, "2200-06-30", "1900-01-01"])
    labels = window_labels(array, "day")
    assert labels.to_pylist() == ["1900-01-01", None, "2200-06-30", "1900-01-01"]
    assert len(labels.dictionary) == 2
