"""Stand-in for ``transformers.pipeline`` with hub models (gpt2, distilgpt2, bert-base-uncased download).

``pipeline(task="text-generation", model=...)`` continues a sentence deterministically with words
that depend on the model name; ``pipeline(task="text-classification", ...)`` scores a sentence
in [0, 1].  Both answer in the shapes transformers pipelines do.
"""

import hashlib

_WORDS = "and then we built a model that served the idea over http with adaptive batching".split()


def _seed(*parts):
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


class _Generation:
    def __init__(self, model):
        self.model = model

    def __call__(self, sentence, max_length=20, num_return_sequences=1):
        out = []
        for n in range(num_return_sequences):
            seed = _seed(self.model, sentence, str(n))
            words = [_WORDS[(seed >> i) % len(_WORDS)] for i in range(max(1, min(8, max_length)))]
            out.append({"generated_text": f"{sentence} {' '.join(words)}"})
        return out


class _Classification:
    def __init__(self, model):
        self.model = model

    def __call__(self, sentence):
        score = (_seed(self.model, sentence) % 1000) / 1000
        return [{"label": "LABEL_1" if score >= 0.5 else "LABEL_0", "score": score}]


def pipeline(task, model=None, tokenizer=None):
    if task == "text-generation":
        return _Generation(model)
    if task == "text-classification":
        return _Classification(model)
    raise ValueError(f"unsupported task {task!r}")
