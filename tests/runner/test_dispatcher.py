"""The adaptive batcher against a scripted worker (deterministic; real processes in test_pool)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bentotui.exceptions import BadInput, ServiceUnavailable
from bentotui.runner.cost import CostModel
from bentotui.runner.dispatcher import Dispatcher


class FakeClient:
    """Records each batch; the test completes them by hand."""

    def __init__(self) -> None:
        self.closed = False
        self.sent: list[tuple[str, tuple, dict, asyncio.Future]] = []

    @property
    def inflight(self) -> int:
        return sum(not future.done() for *_, future in self.sent)

    def call(self, method, args, kwargs, trace=None):
        future = asyncio.get_running_loop().create_future()
        self.sent.append((method, args, kwargs, future))
        return future

    def finish(self, index: int = -1) -> None:
        _, (x,), _, future = self.sent[index]
        future.set_result([v * 2 for v in x] if isinstance(x, list) else x * 2)


class Slot:
    """A worker slot; ``coming_back`` while the pool restarts its process."""

    def __init__(self, client, coming_back: bool = False) -> None:
        self.client = client
        self.coming_back = coming_back


class Recorder:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def batch(self, runner, method, size, queue_wait_s, exec_s) -> None:
        self.batches.append(size)


def make(client, **overrides):
    options = dict(
        runner="r",
        method="predict",
        input_dim=0,
        output_dim=0,
        max_batch_size=8,
        max_latency_ms=1000,
        workers=[Slot(client)],
        observer=Recorder(),
    )
    options.update(overrides)
    return Dispatcher(**options)


async def turn() -> None:
    """Let the event loop run one turn (where the dispatcher sends what was submitted)."""
    await asyncio.sleep(0)


async def test_a_lone_call_goes_at_once():
    client = FakeClient()
    dispatcher = make(client)
    future = dispatcher.submit((np.ones((1, 2)),), {})
    await turn()
    assert len(client.sent) == 1  # at the end of the loop turn: no timer, no wait
    client.finish()
    np.testing.assert_array_equal(await future, [[2, 2]])


async def test_calls_submitted_in_one_loop_turn_leave_together():
    client = FakeClient()
    dispatcher = make(client, max_batch_size=100)
    futures = [dispatcher.submit(([i],), {}) for i in range(30)]
    await turn()
    assert [len(args[0]) for _, args, _, _ in client.sent] == [30]
    client.finish()
    assert [await f for f in futures] == [[2 * i] for i in range(30)]


async def test_calls_queued_behind_a_busy_worker_form_one_batch_in_order():
    client = FakeClient()
    dispatcher = make(client, max_batch_size=100)
    first = dispatcher.submit((np.array([[0.0]]),), {})
    await turn()
    rest = [dispatcher.submit((np.array([[float(i)]] * (i % 3 + 1)),), {}) for i in range(1, 20)]
    await turn()
    assert len(client.sent) == 1
    client.finish(0)
    await asyncio.sleep(0)  # done callbacks run on the next loop turn
    assert len(client.sent) == 2  # everything that queued goes as the next batch
    _, (batch,), _, _ = client.sent[1]
    assert batch.shape[0] == sum(i % 3 + 1 for i in range(1, 20))
    client.finish(1)
    await first
    for i, future in enumerate(rest, start=1):
        result = await future
        assert result.shape == (i % 3 + 1, 1) and (result == 2 * i).all()
    assert dispatcher.observer.batches == [1, batch.shape[0]]


async def test_max_batch_size_is_respected_and_full_batches_pipeline():
    client = FakeClient()
    dispatcher = make(client, max_batch_size=4)
    futures = [dispatcher.submit(([i],), {}) for i in range(11)]
    await turn()
    # a full batch, then a second full one pipelined behind it; the rest waits
    assert [len(args[0]) for _, args, _, _ in client.sent] == [4, 4]
    while any(not f.done() for f in futures):
        client.finish(next(i for i, s in enumerate(client.sent) if not s[3].done()))
        await asyncio.sleep(0)
    assert all(len(args[0]) <= 4 for _, args, _, _ in client.sent)
    assert [await f for f in futures] == [[2 * i] for i in range(11)]


async def test_incompatible_calls_do_not_share_a_batch():
    client = FakeClient()
    dispatcher = make(client)
    dispatcher.submit((np.ones((1, 4)),), {})  # occupies the worker
    await turn()
    wide = dispatcher.submit((np.ones((1, 4)),), {})
    narrow = dispatcher.submit((np.ones((1, 2)),), {})
    scaled = dispatcher.submit((np.ones((1, 4)),), {"scale": 3})
    wide2 = dispatcher.submit((np.ones((1, 4)),), {})
    for _ in range(4):
        client.finish(next(i for i, s in enumerate(client.sent) if not s[3].done()))
        await asyncio.sleep(0)
    shapes = [(args[0].shape, kwargs) for _, args, kwargs, _ in client.sent]
    assert shapes[1] == ((2, 4), {})  # wide + wide2 merged, the others skipped past
    assert ((1, 2), {}) in shapes and ((1, 4), {"scale": 3}) in shapes
    for future in (wide, narrow, scaled, wide2):
        await future


async def test_errors_reach_every_call_of_the_batch():
    client = FakeClient()
    dispatcher = make(client)
    future = dispatcher.submit(([1],), {})
    await turn()
    client.sent[0][3].set_exception(ServiceUnavailable("worker went away"))
    with pytest.raises(ServiceUnavailable):
        await future


async def test_overload_is_refused_at_once_from_the_cost_estimate():
    client = FakeClient()
    dispatcher = make(client, max_batch_size=2, max_latency_ms=100)
    for _ in range(CostModel.WARM_AFTER):
        dispatcher.cost.update(1, 0.03)  # 30 ms per row
        dispatcher.cost.update(2, 0.06)
    accepted = []
    with pytest.raises(ServiceUnavailable, match="overloaded"):
        for _ in range(50):
            accepted.append(dispatcher.submit(([1],), {}))
    assert 1 <= len(accepted) < 10


async def test_a_call_that_outlives_max_latency_in_the_queue_fails():
    client = FakeClient()
    dispatcher = make(client, max_latency_ms=50)
    dispatcher.submit(([1],), {})  # never finishes: the worker is stuck
    await turn()
    waiting = dispatcher.submit(([2],), {})
    with pytest.raises(ServiceUnavailable, match="waited over max_latency_ms=50"):
        await asyncio.wait_for(waiting, 2)
    assert dispatcher.queued_rows == 0


async def test_no_live_worker_is_refused():
    client = FakeClient()
    client.closed = True
    with pytest.raises(ServiceUnavailable, match="no live worker"):
        make(client).submit(([1],), {})


async def test_calls_wait_for_a_worker_that_is_coming_back_and_leave_when_it_is_up():
    slot = Slot(None, coming_back=True)
    dispatcher = make(None, workers=[slot])
    for n in (1, 8) * 10:  # a warm cost model (no fixed cost) must not refuse them either
        dispatcher.cost.update(n, 0.001 * n)
    waiting = [dispatcher.submit(([i],), {}) for i in range(3)]
    await turn()
    assert dispatcher.queued_rows == 3 and not any(f.done() for f in waiting)
    client = FakeClient()
    slot.client, slot.coming_back = client, False
    dispatcher.pump()  # what the pool does once the replacement is connected
    assert len(client.sent) == 1 and client.sent[0][1] == ([0, 1, 2],)
    client.finish()
    assert await asyncio.gather(*waiting) == [[0], [2], [4]]


async def test_calls_waiting_for_a_worker_fail_at_max_latency():
    dispatcher = make(None, workers=[Slot(None, coming_back=True)], max_latency_ms=50)
    waiting = dispatcher.submit(([1],), {})
    with pytest.raises(ServiceUnavailable, match="waited over max_latency_ms=50"):
        await asyncio.wait_for(waiting, 2)
    assert dispatcher.queued_rows == 0


async def test_fail_queued_fails_waiting_calls_and_the_dispatcher_stays_usable():
    slot = Slot(None, coming_back=True)
    dispatcher = make(None, workers=[slot])
    waiting = dispatcher.submit(([1],), {})
    dispatcher.fail_queued(ServiceUnavailable("the restart failed"))
    with pytest.raises(ServiceUnavailable, match="the restart failed"):
        await waiting
    client = FakeClient()
    slot.client, slot.coming_back = client, False
    later = dispatcher.submit(([5],), {})
    await turn()
    client.finish()
    assert await later == [10]


@pytest.mark.parametrize("empty", [[], np.zeros((0, 4)), np.zeros(0)], ids=["list", "2d-array", "1d-array"])
async def test_an_empty_batch_is_bad_input_and_never_queued(empty):
    client = FakeClient()
    dispatcher = make(client)
    for _ in range(2):  # the second one used to divide by zero rows (arrival gap)
        with pytest.raises(BadInput, match="empty batch: predict needs at least one row"):
            dispatcher.submit((empty,), {})
    await turn()
    assert dispatcher.queued_rows == 0 and client.sent == []
    real = dispatcher.submit(([1],), {})
    await turn()
    client.finish()
    assert await real == [2]


async def test_close_fails_queued_calls():
    client = FakeClient()
    dispatcher = make(client)
    dispatcher.submit(([1],), {})
    queued = dispatcher.submit(([2],), {})
    dispatcher.close("stopping")
    with pytest.raises(ServiceUnavailable, match="stopping"):
        await queued


def test_cost_model_fits_a_line_and_is_pessimistic_with_one_size():
    cost = CostModel()
    assert not cost.warm
    cost.update(10, 5.0)  # the first batch pays lazy initialisation: left out
    cost.update(10, 0.010)
    assert cost.estimate(20) == pytest.approx(0.020)  # proportional until sizes differ
    assert not cost.warm  # one cold sample never refuses a burst of first calls
    for _ in range(CostModel.WARM_AFTER):
        cost.update(10, 0.010)
    assert cost.warm
    cost = CostModel()
    for n in (1, 5, 10, 50, 100):
        cost.update(n, 0.004 + 0.0001 * n)
    assert cost.a == pytest.approx(0.0001, rel=0.2) and cost.b == pytest.approx(0.004, rel=0.2)


def teach_fixed_cost(dispatcher, fixed_s: float) -> None:
    """Batches that cost ``fixed_s`` whatever their size (like a RandomForest)."""
    for n in (1, 8) * 10:
        dispatcher.cost.update(n, fixed_s)


async def test_fast_arrivals_wait_briefly_for_a_fuller_batch_when_batches_have_a_fixed_cost():
    client = FakeClient()
    dispatcher = make(client, max_batch_size=100)
    first = dispatcher.submit(([0],), {})  # no arrival rate known yet: goes at once
    await turn()
    client.finish()
    await turn()
    teach_fixed_cost(dispatcher, 0.05)  # (the fake worker answered in no time)
    futures = [first]
    for i in range(1, 10):  # arrivals ~1 ms apart: far faster than one per 50 ms
        futures.append(dispatcher.submit(([i],), {}))
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.06)  # the wait is bounded by the fixed cost
    while any(not f.done() for f in futures):
        client.finish(next(i for i, s in enumerate(client.sent) if not s[3].done()))
        await turn()
    # the worker was free all along, yet calls 1.. left together rather than one by one
    assert len(client.sent[1][1][0]) > 1 and len(client.sent) <= 4
    assert [await f for f in futures] == [[2 * i] for i in range(10)]


async def test_a_lone_caller_never_waits_even_with_a_fixed_cost():
    client = FakeClient()
    dispatcher = make(client)
    teach_fixed_cost(dispatcher, 0.005)
    for i in range(3):  # one call at a time, each after the previous answer (closed loop, c=1)
        future = dispatcher.submit(([i],), {})
        await turn()
        assert len(client.sent) == i + 1
        client.finish()
        await future
        await asyncio.sleep(0.01)


def test_cost_model_with_a_flat_cost_is_all_fixed_cost():
    """Equal times for every batch size (a RandomForest) must not fall back to per-row cost."""
    cost = CostModel()
    for n in (1, 8) * 10:
        cost.update(n, 0.05)
    assert cost.a == pytest.approx(0.0, abs=1e-9) and cost.b == pytest.approx(0.05)


async def test_insight_keeps_the_cost_line_batch_sizes_waits_and_each_refusal_with_its_reason():
    """What the TUI's batching panel shows comes from here: every refusal is logged with the
    message its 503 carried, batches by size, and the fitted line."""
    client = FakeClient()
    dispatcher = make(client, max_batch_size=2, max_latency_ms=100)
    for _ in range(CostModel.WARM_AFTER):
        dispatcher.cost.update(1, 0.03)
        dispatcher.cost.update(2, 0.06)
    with pytest.raises(ServiceUnavailable, match="overloaded") as refused:
        for _ in range(50):
            dispatcher.submit(([1],), {})
    await turn()
    client.finish(0)
    await turn()
    insight = dispatcher.insight()
    assert insight["max_batch_size"] == 2 and insight["max_latency_ms"] == 100
    assert insight["cost"]["warm"] and insight["cost"]["per_row_ms"] > 0  # the line fitted so far
    assert insight["batches"] == 1 and insight["sizes"] == {"2": 1}
    assert insight["queue_wait_ms"]["p50"] >= 0 and insight["exec_ms"]["max"] >= 0
    assert insight["refused"] == {"overloaded": 1}
    [refusal] = insight["refusals"]
    assert refusal["kind"] == "overloaded" and refusal["message"] == str(refused.value.message)
    assert "would take about" in refusal["message"]


async def test_expired_and_no_worker_refusals_are_logged_too():
    client = FakeClient()
    dispatcher = make(client, max_latency_ms=50)
    dispatcher.submit(([1],), {})  # stuck on the worker
    await turn()
    waiting = [dispatcher.submit(([2],), {}), dispatcher.submit(([3],), {})]
    with pytest.raises(ServiceUnavailable):
        await asyncio.wait_for(asyncio.gather(*waiting), 2)
    client.closed = True
    with pytest.raises(ServiceUnavailable, match="no live worker"):
        dispatcher.submit(([4],), {})
    log = dispatcher.insight()
    assert log["refused"] == {"expired": 2, "no_worker": 1}
    assert [r["kind"] for r in log["refusals"]] == ["expired", "no_worker"] and log["refusals"][0]["calls"] == 2
