"""bentoml/gallery 0.13-LTS titanic-multiple-models-jsoninput: the notebook's training and saving cells.

The Kaggle titanic CSV download is replaced by generated passengers with the same columns;
XGBRFClassifier / LGBMClassifier by scikit-learn's RandomForest / HistGradientBoosting.
"""

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import train_test_split


def generated_passengers(n=400, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "Pclass": rng.integers(1, 4, n),
            "Age": rng.uniform(1, 80, n).round(1),
            "Fare": rng.uniform(5, 250, n).round(2),
            "SibSp": rng.integers(0, 4, n),
            "Parch": rng.integers(0, 3, n),
        }
    )
    df["Survived"] = ((df.Pclass == 1) | (df.Age < 12) | (rng.random(n) < 0.2)).astype(int)
    return df


train_df = generated_passengers()
y = train_df.pop("Survived")
cols = ["Pclass", "Age", "Fare", "SibSp", "Parch"]
X_train, X_test, y_train, y_test = train_test_split(train_df[cols], y, test_size=0.2, random_state=42)

lgb_model = HistGradientBoostingClassifier(max_iter=50)
lgb_model.fit(X_train, y_train)

xgb_model = RandomForestClassifier(n_estimators=30, random_state=0)
xgb_model.fit(X_train, y_train)

models = {"xgb": xgb_model, "lgb": lgb_model}

# 1) import the custom BentoService defined above
from multiple_models_titanic_bento_service import TitanicSurvivalPredictionService  # noqa: E402

# 2) `pack` it with required artifacts
bento_service = TitanicSurvivalPredictionService()
bento_service.pack("xgb", xgb_model)
bento_service.pack("lgb", lgb_model)

# 3) save your BentoSerivce
saved_path = bento_service.save()
print(saved_path)
X_test.to_json("x_test.json", orient="table")
