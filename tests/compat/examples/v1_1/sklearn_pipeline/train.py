"""BentoML 1.1 examples/sklearn/pipeline/train.py: a grid-searched text classification pipeline."""

import logging
from pprint import pprint
from time import time

from newsgroups import fetch_20newsgroups  # stand-in for sklearn.datasets.fetch_20newsgroups
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import bentotui as bentoml

# Display progress logs on stdout
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

# Load some categories from the training set
categories = [
    "alt.atheism",
    "talk.religion.misc",
]

print("Loading 20 newsgroups dataset for categories:")
print(categories)

data = fetch_20newsgroups(subset="train", categories=categories)
print("%d documents" % len(data.filenames))  # noqa: UP031
print("%d categories" % len(data.target_names))  # noqa: UP031
print()

# Define a pipeline combining a text feature extractor with a simple classifier
pipeline = Pipeline(
    [
        ("vect", CountVectorizer()),
        ("tfidf", TfidfTransformer()),
        ("clf", SGDClassifier(loss="log_loss")),
    ]
)

# Parameters to use for grid search.
parameters = {
    "vect__max_df": (0.5, 0.75, 1.0),
    "vect__ngram_range": ((1, 1), (1, 2)),  # unigrams or bigrams
    "clf__max_iter": (20,),
    "clf__alpha": (0.00001, 0.000001),
    "clf__penalty": ("l2", "elasticnet"),
}

# Find the best parameters for both the feature extraction and the classifier
# (n_jobs=1 rather than the example's -1: the test machine has two shared cores)
grid_search = GridSearchCV(pipeline, parameters, n_jobs=1, verbose=1)

print("Performing grid search...")
print("pipeline:", [name for name, _ in pipeline.steps])
print("parameters:")
pprint(parameters)
t0 = time()
grid_search.fit(data.data, data.target)
print("done in %0.3fs" % (time() - t0))  # noqa: UP031
print()

print("Best score: %0.3f" % grid_search.best_score_)  # noqa: UP031
best_parameters = grid_search.best_estimator_.get_params()
best_parameters = {param_name: best_parameters[param_name] for param_name in sorted(parameters.keys())}
print(f"Best parameters set: {best_parameters}")

bento_model = bentoml.sklearn.save_model(
    "twenty_news_group",
    grid_search.best_estimator_,
    signatures={
        "predict": {"batchable": True, "batch_dim": 0},
        "predict_proba": {"batchable": True, "batch_dim": 0},
    },
    custom_objects={
        "target_names": data.target_names,
    },
    metadata=best_parameters,
)
print(f"Model saved: {bento_model}")

# Test running inference with BentoML runner
test_runner = bentoml.sklearn.get("twenty_news_group:latest").to_runner()
test_runner.init_local()
assert test_runner.predict.run(["hello"]) == grid_search.best_estimator_.predict(["hello"])
