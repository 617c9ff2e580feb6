"""bentotui.pytorch: whole-module round trips (also of a class defined in a script) and the runnable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bentotui.exceptions import InvalidArgument
from bentotui.frameworks import pytorch as bpt
from bentotui.runner.spec import TORCH_RESULTS_AS_NUMPY_ENV

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch")


class TinyNet(torch.nn.Module):
    """4 features -> 3 scores, plus a second method to expose as a signature."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.dropout(self.linear(x))

    def embed(self, x):
        return self.linear(x).sum(dim=1)


@pytest.fixture
def net():
    torch.manual_seed(0)
    return TinyNet()


def test_round_trip_in_eval_mode_with_default_signature(net):
    model = bpt.save_model("net", net, labels={"kind": "mlp"}, metadata={"inputs": 4})
    assert model.info.signatures == {"__call__": {"batchable": True, "batch_dim": 0}}
    assert model.info.framework_version == torch.__version__
    assert model.info.options == {"pickler": "cloudpickle"}
    assert model.info.labels == {"kind": "mlp"} and model.info.metadata == {"inputs": 4}
    loaded = bpt.load_model(model.tag)
    assert isinstance(loaded, TinyNet) and not loaded.training
    x = torch.ones(2, 4)
    net.eval()
    torch.testing.assert_close(loaded(x), net(x))


def test_runnable_runs_under_inference_mode_and_returns_tensors_as_bentoml(net, monkeypatch):
    model = bpt.save_model("net", net, signatures={"__call__": {"batchable": True}, "embed": {}})
    runnable_class = bpt.get_runnable(model)
    methods = runnable_class.runnable_methods()
    assert methods["__call__"].batchable and not methods["embed"].batchable
    runnable = runnable_class(model_tag=str(model.tag))
    assert runnable.device_id == "cpu"
    out = runnable(torch.ones(3, 4))
    assert isinstance(out, torch.Tensor) and out.shape == (3, 3) and out.is_inference()
    batch = np.ones((3, 4), dtype=np.float64)  # JSON numbers: cast to the module's float32
    out = runnable(batch)
    assert isinstance(out, torch.Tensor) and out.argmax(dim=1).shape == (3,)
    net.eval()
    np.testing.assert_allclose(out.numpy(), net(torch.ones(3, 4)).detach().numpy(), rtol=1e-6)
    assert runnable.embed(batch).shape == (3,)
    # a worker of a server without torch (the slim bundle) answers numpy inputs with numpy
    monkeypatch.setenv(TORCH_RESULTS_AS_NUMPY_ENV, "1")
    assert isinstance(runnable(batch), np.ndarray)


def test_a_module_defined_in_a_script_loads_in_another_process(tmp_path):
    script = textwrap.dedent("""
        import torch
        import bentotui

        class ScriptNet(torch.nn.Module):
            def forward(self, x):
                return x * 3

        print(bentotui.pytorch.save_model("scripted", ScriptNet()).tag)
    """)
    (tmp_path / "train.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = bpt.load_model(done.stdout.strip())
    assert type(loaded).__name__ == "ScriptNet"
    torch.testing.assert_close(loaded(torch.ones(2)), torch.full((2,), 3.0))


def test_save_refuses_what_is_not_a_module():
    with pytest.raises(InvalidArgument, match="saves torch.nn.Module objects, got function"):
        bpt.save_model("bad", lambda x: x)


def test_external_modules_travel_with_the_module(tmp_path):
    from tests.frameworks.user_modules import run_elsewhere, user_module

    source = """
        import torch

        class Halve(torch.nn.Module):
            def forward(self, x):
                return x / 2
    """
    with user_module(tmp_path, "my_layers", source) as layers:
        model = bpt.save_model("halve", torch.nn.Sequential(layers.Halve()), external_modules=[layers])
    loaded = run_elsewhere(
        f"""
        import torch, bentotui
        print(bentotui.pytorch.load_model("{model.tag}")(torch.tensor([4.0])).tolist())
        """,
        tmp_path,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[2.0]"


def test_a_worker_given_gpus_loads_the_module_on_its_device(net, monkeypatch):
    """No GPU here: the device the worker was given is stood in for by torch's ``meta`` device,
    which shows the module is loaded where ``gpus.torch_device()`` says and inputs follow it."""
    from bentotui.runner import gpus

    model = bpt.save_model("net", net)
    monkeypatch.setattr(gpus, "torch_device", lambda: "meta")
    runnable = bpt.get_runnable(model)(model_tag=str(model.tag))
    assert runnable.device_id == "meta"
    monkeypatch.setattr(bpt, "_to_cpu", lambda value: ("moved back", value.device.type))
    assert runnable(np.ones((2, 4))) == ("moved back", "meta")  # the input went to the module's device
