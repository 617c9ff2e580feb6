"""bentoml/gallery 0.13-LTS scikit-learn/sentiment-analysis/sentiment_analysis_service.py."""

import pandas as pd  # noqa: F401 - as the example imports it

import bentotui as bentoml
from bentotui.adapters import DataframeInput
from bentotui.frameworks.sklearn import SklearnModelArtifact  # noqa: F401
from bentotui.handlers import DataframeHandler  # noqa: F401
from bentotui.service.artifacts.common import PickleArtifact


@bentoml.artifacts([PickleArtifact("model")])
@bentoml.env(pip_packages=["scikit-learn", "pandas"])
class SKSentimentAnalysis(bentoml.BentoService):
    @bentoml.api(input=DataframeInput(), batch=True)
    def predict(self, df):
        """
        predict expects pandas.Series as input
        """
        series = df.iloc[0, :]
        return self.artifacts.model.predict(series)
