"""Accuracy targets on the real clips, through the socket's analysis path.

Uses the landmark cache (~/.cache/posequeue/landmarks, or $POSEQUEUE_CACHE);
a cold cache extracts the poses first (about a minute per 2 CPU cores).
"""
import pytest

from bench.accuracy import DATA, run_all, table, totals

pytestmark = pytest.mark.skipif(not (DATA / "videos" / "exercise").is_dir(),
                                reason=f"real clips not available: {DATA / 'videos' / 'exercise'} is absent")


@pytest.fixture(scope="module")
def results():
    return run_all()


def test_every_clip_was_analysed(results):
    assert len(results) == 14


def test_exercise_is_right_on_at_least_90_percent(results):
    assert totals(results)["exercise"] >= 0.9, table(results)


def test_rep_count_is_exact_on_at_least_80_percent(results):
    assert totals(results)["exact"] >= 0.8, table(results)


def test_rep_count_is_never_off_by_more_than_one(results):
    assert totals(results)["within_one"] == 1.0, table(results)
