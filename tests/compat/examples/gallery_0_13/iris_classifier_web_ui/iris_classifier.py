"""bentoml/gallery 0.13-LTS scikit-learn/iris-classifier: the notebook's second iris_classifier.py,
"Adding Custom Web Static Content" (older 0.x spellings: bentoml.artifact, auto_pip_dependencies)."""

from bentotui import BentoService, api, artifacts, env, web_static_content
from bentotui.adapters import DataframeInput
from bentotui.artifact import SklearnModelArtifact


@env(auto_pip_dependencies=True)
@artifacts([SklearnModelArtifact("model")])
@web_static_content("./static")
class IrisClassifier(BentoService):
    @api(input=DataframeInput(), batch=True)
    def test(self, df):
        # Optional pre-processing, post-processing code goes here
        return self.artifacts.model.predict(df)
