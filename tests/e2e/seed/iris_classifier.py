# ruff: noqa  (kept close to the seed as written)
# The seed's first example (bentoml-notes.ko.md), run as written with bentotui's imports.
# `trained_model` is not defined in the seed: a user trains it first, as below.
from sklearn import svm
from sklearn.datasets import load_iris

import bentotui as bentoml
from bentotui.adapters import DataframeInput
from bentotui.frameworks.sklearn import SklearnModelArtifact

iris = load_iris()
trained_model = svm.SVC(gamma="scale").fit(iris.data, iris.target)


@bentoml.artifacts([SklearnModelArtifact('model')])
@bentoml.env(infer_pip_packages=True)
class IrisClassifier(bentoml.BentoService):
    @bentoml.api(input=DataframeInput(), batch=True)
    def predict(self, df):
        return self.artifacts.model.predict(df)


bento_service = IrisClassifier()

bento_service.pack('model', trained_model)

saved_path = bento_service.save()
print(saved_path)
