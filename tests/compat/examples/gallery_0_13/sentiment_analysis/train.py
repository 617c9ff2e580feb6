"""bentoml/gallery 0.13-LTS scikit-learn/sentiment-analysis: the notebook's training and saving cells.

The Sentiment140 download (trainingandtestdata.zip) is replaced by generated tweets with the
same columns and polarities (0 negative, 4 positive).
"""

import random

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.pipeline import Pipeline

POSITIVE = "happy great love sweet awesome fun good nice time day noodles".split()
NEGATIVE = "sad awful hate bad terrible boring day time noodles cold".split()


def generated_tweets(n, seed):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        polarity = rng.choice([0, 4])
        words = rng.choices(POSITIVE if polarity == 4 else NEGATIVE, k=6)
        rows.append([polarity, i, "Mon Apr 06 22:19:45 PDT 2009", "NO_QUERY", f"user{i}", " ".join(words)])
    return pd.DataFrame(rows)


columns = ["polarity", "tweetid", "date", "query_name", "user", "text"]
dftrain = generated_tweets(1000, seed=0)
dftest = generated_tweets(200, seed=1)
dftrain.columns = columns
dftest.columns = columns

sentiment_lr = Pipeline(
    [
        ("count_vect", CountVectorizer(min_df=100, ngram_range=(1, 2), stop_words="english")),
        ("lr", LogisticRegression()),
    ]
)
sentiment_lr.fit(dftrain.text, dftrain.polarity)

Xtest, ytest = dftest.text[dftest.polarity != 2], dftest.polarity[dftest.polarity != 2]
print(classification_report(ytest, sentiment_lr.predict(Xtest)))

# 1) import the custom BentoService defined above
from sentiment_analysis_service import SKSentimentAnalysis  # noqa: E402

# 2) `pack` it with required artifacts
bento_service = SKSentimentAnalysis()
bento_service.pack("model", sentiment_lr)

# 3) save your BentoSerivce to file archive
saved_path = bento_service.save()
print(saved_path)
