"""Progress reports: the ETA estimator and cancellation through the progress call."""
import pytest

from actors.context import RateEstimator, TaskContext
from actors.errors import TaskCancelled
from models.task_state import TaskLedger
from models.task_store import MemoryTaskStore


def test_eta_follows_a_steady_rate():
    rate = RateEstimator(window=5)
    assert rate.update(0.0, 0.0) is None
    for step in range(1, 11):
        eta = rate.update(step / 100, step * 1.0)  # 1 % per second
    assert eta == pytest.approx(90.0, rel=0.01)


def test_eta_adapts_when_the_job_slows_down():
    rate = RateEstimator(window=5)
    rate.update(0.0, 0.0)
    for step in range(1, 11):
        rate.update(step / 100, step * 1.0)
    for step in range(1, 31):
        eta = rate.update(0.10 + step / 200, 10.0 + step)  # now 0.5 % per second
    assert eta == pytest.approx((1 - 0.25) / 0.005, rel=0.1)


def test_eta_is_zero_at_the_end_and_ignores_backwards_reports():
    rate = RateEstimator()
    rate.update(0.5, 0.0)
    assert rate.update(1.0, 1.0) == 0.0
    assert rate.update(0.9, 2.0) is not None


def _context(store, db_interval=3600.0):
    ledger = TaskLedger(store)
    ledger.persist = lambda state: None  # unit test: no database
    return TaskContext(ledger, "t1", db_interval=db_interval)


def test_progress_writes_state_and_message():
    store = MemoryTaskStore()
    ctx = _context(store)
    ctx.progress(450, 1000, "Processing frame 450/1000")
    state = store.get("t1")
    assert state["state"] == "PROGRESS" and state["progress"] == 45.0
    assert state["status"] == "Processing frame 450/1000"


def test_progress_raises_when_cancel_was_requested():
    store = MemoryTaskStore()
    ctx = _context(store)
    ctx.progress(1, 10)
    store.request_cancel("t1")
    with pytest.raises(TaskCancelled):
        ctx.progress(2, 10)


def test_progress_raises_when_the_task_already_ended():
    store = MemoryTaskStore()
    store.put("t1", {"state": "CANCELLED"}, force=True)
    with pytest.raises(TaskCancelled):
        _context(store).progress(1, 10)


def test_database_gets_progress_at_most_once_per_interval():
    store = MemoryTaskStore()
    ledger = TaskLedger(store)
    writes = []
    ledger.persist = writes.append
    ctx = TaskContext(ledger, "t1", db_interval=3600.0)
    for i in range(100):
        ctx.progress(i, 100)
    assert len(writes) == 1
