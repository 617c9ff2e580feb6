# ruff: noqa  (kept as the seed wrote it: import order and spacing included)
# The seed's second example (bentoml-notes.ko.md), run as written with bentotui's imports;
# the notebook's `!bentoml serve` / `!bentoml containerize` lines are left to the test.
import bentotui as bentoml
from bentotui.frameworks.sklearn import SklearnModelArtifact
from bentotui.adapters import DataframeInput
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

# 모델 학습
iris = load_iris()
X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.2, random_state=42)

# 첫 번째 모델: RandomForestClassifier
model_rf = RandomForestClassifier()
model_rf.fit(X_train, y_train)

# 두 번째 모델: LogisticRegression
model_lr = LogisticRegression()
model_lr.fit(X_train, y_train)

# BentoService 정의
@bentoml.artifacts([SklearnModelArtifact('model_rf'), SklearnModelArtifact('model_lr')])
@bentoml.env(infer_pip_packages=True)
class MultiModelService(bentoml.BentoService):

    @bentoml.api(input=DataframeInput(), batch=True)
    def predict_rf(self, df):
        return self.artifacts.model_rf.predict(df)

    @bentoml.api(input=DataframeInput(), batch=True)
    def predict_lr(self, df):
        return self.artifacts.model_lr.predict(df)

# BentoService 인스턴스 생성 및 모델 패키징
bento_service = MultiModelService()
bento_service.pack('model_rf', model_rf)
bento_service.pack('model_lr', model_lr)

# BentoML 저장소에 서비스 저장
saved_path = bento_service.save()
