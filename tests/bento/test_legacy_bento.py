"""A 0.x ``BentoService.save()`` goes through the bento builder: port 5000 all the way down."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from bentotui.bento import k8s
from bentotui.bentos import get

SCRIPT = textwrap.dedent(
    """
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import bentotui as bentoml
    from bentotui.adapters import DataframeInput
    from bentotui.frameworks.sklearn import SklearnModelArtifact

    iris = load_iris()
    model = LogisticRegression(max_iter=1000).fit(iris.data, iris.target)


    @bentoml.artifacts([SklearnModelArtifact("model")])
    @bentoml.env(infer_pip_packages=True)
    class IrisClassifier(bentoml.BentoService):
        @bentoml.api(input=DataframeInput(), batch=True)
        def predict(self, df):
            return self.artifacts.model.predict(df)


    IrisClassifier().pack("model", model).save()
    """
)


def test_saved_legacy_service_is_a_port_5000_bento(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    subprocess.run([sys.executable, "train.py"], cwd=tmp_path, check=True, timeout=120, capture_output=True)
    bento = get("irisclassifier:latest")
    assert bento.info.default_port == 5000
    assert [api.route for api in bento.info.apis] == ["/predict"]
    assert len(bento.info.models) == 1
    assert (bento.path / "models" / str(bento.info.models[0].tag).replace(":", "/") / "model.yaml").is_file()
    requirements = (bento.path / "env" / "python" / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("scikit-learn==") for line in requirements)
    dockerfile = (bento.path / "env" / "docker" / "Dockerfile").read_text()
    assert "EXPOSE 5000" in dockerfile and '"--port", "5000"' in dockerfile
    [deployment, service, _] = k8s.bento_manifests("irisclassifier", k8s.DeployOptions())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 5000
    assert service["spec"]["ports"][0]["port"] == 5000
    assert yaml.safe_load((bento.path / "bento.yaml").read_text())["service"] == "_bentotui_service:svc"
