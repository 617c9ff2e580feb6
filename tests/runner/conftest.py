"""Fixtures of the runner tests."""

from __future__ import annotations

import asyncio

import pytest

from bentotui.runner.pool import RunnerPool
from tests.runner.pools import ROOT, assert_gone, worker_pids


@pytest.fixture
async def started():
    """``await started(runners, **options)`` -> a started pool, stopped (and checked) afterwards."""
    pools: list[RunnerPool] = []

    async def start(runners, **options) -> RunnerPool:
        options.setdefault("working_dir", ROOT)
        pool = RunnerPool(runners, **options)
        pools.append(pool)
        await asyncio.wait_for(pool.start(), 60)
        return pool

    yield start
    for pool in pools:
        pids = worker_pids(pool)
        await asyncio.wait_for(pool.stop(), 30)
        assert_gone(pids)
