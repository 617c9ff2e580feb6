"""GPU placement: which ``CUDA_VISIBLE_DEVICES`` each runner worker gets (no GPU needed)."""

from __future__ import annotations

import logging

import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.runner import Runnable, Runner, gpus
from bentotui.runner.pool import RunnerPool


def test_the_servers_own_cuda_visible_devices_is_what_it_hands_out(tmp_path):
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "2,3"}, tmp_path) == ["2", "3"]
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-1a, GPU-2b"}, tmp_path) == ["GPU-1a", "GPU-2b"]
    # "use the CPU" (bentoml/BentoML#3972): nothing to hand out, and CUDA ignores what follows -1
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, tmp_path) == []
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}, tmp_path) == []
    assert gpus.visible_gpus({"CUDA_VISIBLE_DEVICES": "0,-1,2"}, tmp_path) == ["0"]


def test_without_cuda_visible_devices_the_drivers_gpus_count(tmp_path):
    driver = tmp_path / "gpus"
    assert gpus.visible_gpus({}, driver) == []  # no driver
    for index in range(2):
        (driver / f"0000:0{index}:00.0").mkdir(parents=True)
    assert gpus.visible_gpus({}, driver) == ["0", "1"]  # numbered from 0 (bentoml/BentoML#5443)


@pytest.mark.parametrize(
    ("count", "workers", "available", "expected"),
    [
        (1, 1, ["0"], ["0"]),  # one GPU machine: GPU 0, not 1
        (2, 1, ["0", "1", "2"], ["0,1"]),  # one worker: all it asked for
        (2, 2, ["0", "1"], ["0", "1"]),  # one each, not both on cuda:0
        (4, 2, ["0", "1", "2", "3"], ["0,1", "2,3"]),
        (1, 3, ["5", "7"], ["5", "5", "5"]),  # fewer GPUs than workers: shared
        (2, 3, ["5", "7"], ["5", "7", "5"]),
        (0.5, 2, ["3"], ["3", "3"]),  # a fraction shares one
        (1, 2, ["GPU-a"], ["GPU-a", "GPU-a"]),
        (0, 2, ["0"], [None, None]),  # not asked: the environment is left alone
    ],
)
def test_assignment(count, workers, available, expected):
    assert gpus.assign(count, workers, available, "r") == expected


def test_asking_for_more_than_there_is_runs_on_what_there_is(caplog):
    with caplog.at_level(logging.WARNING, "bentotui.server"):
        assert gpus.assign(3, 1, ["0", "1"], "llm") == ["0,1"]
        assert gpus.assign(1, 2, [], "llm") == [None, None]  # a laptop: the CPU, said in the log
        assert gpus.assign(3, 2, ["0", "1", "2"], "llm") == ["0", "1"]
    assert [r.getMessage() for r in caplog.records] == [
        "runner 'llm' asks for 3 GPUs but 2 are visible (0,1): it gets those",
        "runner 'llm' asks for 1 GPU(s) but none is visible: its workers run on the CPU",
        "runner 'llm': 3 GPUs do not split evenly over 2 workers; 1 stay unused",
    ]


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), "2", True])
def test_bad_requests_are_refused(bad):
    with pytest.raises(InvalidArgument, match="(?i)gpu"):
        gpus.check_request(bad, "@bentotui.service resources")


def test_a_model_goes_to_cuda_only_in_a_worker_given_gpus(monkeypatch):
    monkeypatch.delenv(gpus.ASSIGNED_ENV, raising=False)
    assert gpus.torch_device() == "cpu"
    torch = pytest.importorskip("torch")
    monkeypatch.setenv(gpus.ASSIGNED_ENV, "0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert gpus.torch_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpus.torch_device() == "cpu"  # given GPUs torch cannot see (a CPU build): the CPU


class _GpuModel(Runnable):
    SUPPORTED_RESOURCES = ("nvidia.com/gpu", "cpu")

    @Runnable.method
    def predict(self, x):
        return x


class _CpuModel(Runnable):
    @Runnable.method
    def predict(self, x):
        return x


def _worker_envs(pool: RunnerPool) -> list[list[tuple[str | None, str | None]]]:
    """Per runner, each worker's (CUDA_VISIBLE_DEVICES, BENTOTUI_GPUS) as the pool would start it."""
    return [
        [
            (env.get(gpus.CUDA_ENV), env.get(gpus.ASSIGNED_ENV))
            for env in (group._command(worker)[2] for worker in group.workers)
        ]
        for group in pool._groups
    ]


def test_the_pool_starts_each_worker_with_its_own_gpus(monkeypatch):
    monkeypatch.setenv(gpus.CUDA_ENV, "4,5")
    own = Runner(_CpuModel, name="own")
    own.resources["gpu"] = 1  # a 1.2 @service's resources={"gpu": 1}
    pool = RunnerPool([Runner(_GpuModel, name="gpu"), Runner(_CpuModel, name="cpu"), own], workers=2, gpus=2)
    assert _worker_envs(pool) == [
        [("4", "4"), ("5", "5")],  # --gpus 2 over two workers: one each, from the server's own GPUs
        [("4,5", None), ("4,5", None)],  # a CPU-only runnable: its environment left as it was
        [("4", "4"), ("4", "4")],  # its own request wins over --gpus
    ]
    assert _worker_envs(RunnerPool([Runner(_GpuModel, name="g")], workers=1)) == [[("4,5", None)]]  # nothing asked


def test_a_service_class_passes_its_gpu_resources_to_its_runner():
    from bentotui.service.classes import service, to_service
    from bentotui.service.decorators import api

    @service(name="llm", workers=2, resources={"gpu": 2, "memory": "8Gi"})
    class LLM:
        @api
        def generate(self, prompt: str) -> str:
            return prompt

    (runner,) = to_service(LLM).runners
    assert runner.resources == {"gpu": 2.0}

    @service(name="bad", resources={"gpu": 1.5})
    class Bad:
        @api
        def generate(self, prompt: str) -> str:
            return prompt

    with pytest.raises(InvalidArgument, match="fraction of a GPU"):
        to_service(Bad)


def test_serve_refuses_a_bad_gpus_option():
    from bentotui.server.options import ServeOptions

    with pytest.raises(InvalidArgument, match="--gpus"):
        ServeOptions(gpus=-1)
