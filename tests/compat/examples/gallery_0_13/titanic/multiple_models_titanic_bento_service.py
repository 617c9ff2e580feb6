"""bentoml/gallery 0.13-LTS scikit-learn/titanic-multiple-models-jsoninput: the notebook's service file.

The notebook's xgboost and lightgbm models are replaced by scikit-learn's own gradient boosting
and random forest classifiers (same predict_proba API, still SklearnModelArtifact), so the
``import lightgbm as lgb`` / ``import xgboost as xgb`` lines are gone; ``pd.read_json`` gets its
string in an ``io.StringIO``, as pandas 3 requires.
"""

import io
import json

import pandas as pd

import bentotui as bentoml
from bentotui.adapters import JsonInput
from bentotui.frameworks.sklearn import SklearnModelArtifact


@bentoml.artifacts([SklearnModelArtifact("xgb"), SklearnModelArtifact("lgb")])
@bentoml.env(
    conda_channels=["conda-forge"],
    conda_dependencies=["lightgbm==2.3.*", "pandas==1.0.*", "xgboost==1.2.*"],
)
class TitanicSurvivalPredictionService(bentoml.BentoService):
    @bentoml.api(input=JsonInput(), batch=True)
    def predict(self, datain):
        # datain is a list of a json object.
        # (pandas 3 reads a JSON string only from a buffer, hence io.StringIO)
        df = pd.read_json(io.StringIO(json.dumps(datain[0])), orient="table")

        data = df[["Pclass", "Age", "Fare", "SibSp", "Parch"]]
        result = pd.DataFrame()
        result["xgb_proba"] = self.artifacts.xgb.predict_proba(data)[:, 1]
        result["lgb_proba"] = self.artifacts.lgb.predict_proba(data)[:, 1]
        # make sure to return as a list of json
        return [result.to_json(orient="table")]
