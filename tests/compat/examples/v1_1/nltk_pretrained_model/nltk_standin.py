"""Stand-in for NLTK's pretrained VADER model (``python -m download_nltk_models`` downloads it).

The same surface the example uses: ``sent_tokenize(text)`` and
``SentimentIntensityAnalyzer().polarity_scores(sentence)["compound"]``, from a tiny lexicon.
"""

import math
import re

__version__ = "3.8.1-standin"

_LEXICON = {
    "great": 3.1,
    "good": 1.9,
    "love": 3.2,
    "happy": 2.7,
    "awesome": 3.1,
    "nice": 1.8,
    "bad": -2.5,
    "terrible": -2.1,
    "hate": -2.7,
    "sad": -2.1,
    "awful": -2.0,
    "slow": -1.0,
}


def sent_tokenize(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


class SentimentIntensityAnalyzer:
    def polarity_scores(self, sentence):
        score = sum(_LEXICON.get(w, 0.0) for w in re.findall(r"[a-z']+", sentence.lower()))
        return {"compound": score / math.sqrt(score * score + 15)}
