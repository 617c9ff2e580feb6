"""Stand-in for ``sklearn.datasets.fetch_20newsgroups`` (which downloads): two generated newsgroups."""

import random

from sklearn.utils import Bunch

_VOCAB = {
    "alt.atheism": "atheism atheist god exist evidence reason belief science argument morality",
    "talk.religion.misc": "church jesus christian bible faith prayer scripture gospel worship sin",
}
_COMMON = "the a of and to is that in it for on with as was this hello world people think"


def fetch_20newsgroups(subset="train", categories=None, seed=0):
    categories = list(categories or _VOCAB)
    rng = random.Random(f"{subset}-{seed}")
    common = _COMMON.split()
    data, target = [], []
    for _ in range(120):
        label = rng.randrange(len(categories))
        words = _VOCAB[categories[label]].split()
        doc = [rng.choice(words) for _ in range(8)] + [rng.choice(common) for _ in range(12)]
        rng.shuffle(doc)
        data.append(" ".join(doc))
        target.append(label)
    filenames = [f"{subset}/{i}.txt" for i in range(len(data))]
    return Bunch(data=data, target=target, target_names=categories, filenames=filenames)
