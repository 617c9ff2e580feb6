"""bentoml/gallery 0.13-LTS scikit-learn/iris-classifier: iris_classifier.py (the notebook's first %%writefile)."""

from bentotui import BentoService, api, artifacts, env
from bentotui.adapters import DataframeInput
from bentotui.frameworks.sklearn import SklearnModelArtifact


@env(infer_pip_packages=True)
@artifacts([SklearnModelArtifact("model")])
class IrisClassifier(BentoService):
    @api(input=DataframeInput(), batch=True)
    def predict(self, df):
        # Optional pre-processing, post-processing code goes here
        return self.artifacts.model.predict(df)
