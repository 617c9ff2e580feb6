"""The two demo models ``bentotui demo`` saves: built offline, deterministic, in a few seconds.

* ``iris-classifier``: a scikit-learn LogisticRegression on the iris data set that ships with
  scikit-learn.
* ``text-classifier``: a tiny transformers text-classification pipeline (a 2-layer BERT with a
  32-wide hidden state) that sorts news headlines into world / sports / business / tech.  Its
  WordPiece vocabulary is written here, its weights are trained here on a handful of made-up
  headlines: nothing is downloaded, so the demo works on an air-gapped machine and in CI.

:func:`build_tiny_text_generator` builds a third, untrained model the same way, a 2-layer GPT-2
``text-generation`` pipeline over the demo's words: not offered as a demo (its text is noise), it is
what the token-streaming tests and ``scripts/bench_streaming.py`` serve.

The vocabulary also holds every lower-case letter and digit as a word and as a ``##`` suffix piece,
so any ASCII text tokenizes without ``[UNK]``; the news words are whole tokens so the model can
learn from them.  Heavy imports (sklearn, torch, transformers) happen inside the functions.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bentotui.exceptions import NotFound
from bentotui.frameworks.registry import framework

if TYPE_CHECKING:
    from bentotui.store.models import Model

SEED = 0
LABELS: tuple[str, ...] = ("world", "sports", "business", "tech")
SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

_COMMON_WORDS = """
the a an of in on at to for with and or but as by from after before over under into up down out
new first last next this that these those its their his her our is are was were be been has have
had will would can could may says said say after more most less than about against between amid
year years week weeks month months day days today tonight yesterday record big small high low top
two three four five ten hundred thousand early late major latest report reports news amid plans
""".split()

# Per-class topic words; together with the common words, the ~300 whole-word vocabulary.
_TOPIC_WORDS: dict[str, list[str]] = {
    "world": """
government president minister prime election elections vote voters parliament war peace talks
troops military border refugees protest protesters police capital country countries nation nations
united summit leaders diplomat diplomats embassy sanctions treaty ceasefire conflict crisis
earthquake flood floods storm hurricane attack rebels army foreign policy china russia india europe
africa ukraine officials city region aid humanitarian coalition opposition
""".split(),
    "sports": """
match game games season league cup final goal goals score scored win wins won beat defeat team teams
player players coach striker goalkeeper champion champions championship tournament football soccer
basketball tennis cricket baseball hockey olympic olympics medal gold race marathon stadium fans
penalty referee injury transfer club victory draw playoff playoffs title points minute sprint
""".split(),
    "business": """
market markets stock stocks shares investors profit profits revenue earnings quarter bank banks
interest rates inflation economy economic company companies merger acquisition deal billion million
ceo sales retail oil prices price trade tariffs exports growth recession budget dollar euro currency
bond bonds debt funding investment ipo dividend loss losses forecast consumer demand supply factory
jobs unemployment wall street
""".split(),
    "tech": """
software hardware computer computers chip chips semiconductor smartphone phone app apps internet
online web cloud data ai artificial intelligence model models robot robots startup google apple
microsoft update security hackers cyber cyberattack privacy encryption network wireless laptop tablet
processor developers code open source launch launches launched device devices battery electric
vehicle satellite rocket quantum browser search video streaming platform users social media
""".split(),
}

# A handful of made-up headlines per label: enough for the tiny model to learn its topic words.
TRAINING_TEXTS: dict[str, list[str]] = {
    "world": [
        "President meets prime minister at summit as peace talks resume",
        "Troops gather at the border amid conflict between two countries",
        "Voters head to the polls in a tense election for parliament",
        "Earthquake and floods leave thousands of refugees in need of aid",
        "Foreign ministers agree on sanctions after attack on the capital",
        "Rebels and the army sign a ceasefire treaty in the region",
        "Protesters march against the government as police block the city",
        "United nations diplomats warn of humanitarian crisis in africa",
    ],
    "sports": [
        "Striker scores two goals as the team wins the cup final",
        "Coach praises players after league victory at the stadium",
        "Tennis champion wins the championship title in five sets",
        "Goalkeeper saves a late penalty to seal the playoff win",
        "Olympic sprint gold medal for the marathon record holder",
        "Basketball fans cheer as the club beat their rivals in overtime",
        "Cricket and hockey season opens with a draw and a defeat",
        "Referee sends off player as injury hits football team",
    ],
    "business": [
        "Stocks fall as investors fear inflation and higher interest rates",
        "Bank reports record quarterly profit and revenue growth",
        "Oil prices rise on supply worries as demand recovers",
        "Company agrees billion dollar merger deal with a rival",
        "Retail sales slow as consumer spending cools before recession",
        "Central bank holds rates as economy grows and jobs rise",
        "Tariffs hit exports and factory output in the latest quarter",
        "Shares jump after earnings beat forecast and dividend rises",
    ],
    "tech": [
        "New smartphone chip launched with a faster processor and battery",
        "Hackers breach cloud security in a major cyberattack on users",
        "Startup unveils ai model for software developers to write code",
        "Google and microsoft launch open source artificial intelligence tools",
        "Apple laptop and tablet get a wireless update for privacy",
        "Quantum computer and semiconductor research speeds up data networks",
        "Streaming platform adds video search for social media users",
        "Satellite internet rocket launch connects devices online",
    ],
}


def vocabulary() -> list[str]:
    """The WordPiece vocabulary: special tokens, punctuation, characters, pieces, then words."""
    chars = list(string.ascii_lowercase + string.digits)
    punctuation = list(string.punctuation)
    words = list(_COMMON_WORDS)
    for topic in _TOPIC_WORDS.values():
        words.extend(topic)
    for texts in TRAINING_TEXTS.values():
        for text in texts:
            words.extend(text.lower().split())
    vocab: list[str] = []
    for token in [*SPECIAL_TOKENS, *punctuation, *chars, *(f"##{c}" for c in chars), *words]:
        if token not in vocab:
            vocab.append(token)
    return vocab


def build_tokenizer() -> Any:
    """A BERT-style fast tokenizer built with the ``tokenizers`` library from :func:`vocabulary`.

    ``BertTokenizerFast(vocab_file=...)`` silently ignores the file in transformers 5, so the
    tokenizer is built as a ``tokenizers.Tokenizer`` and wrapped in ``PreTrainedTokenizerFast``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(vocabulary())}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )


def build_tiny_text_pipeline(*, steps: int = 60, seed: int = SEED) -> Any:
    """Train the tiny news classifier and return it as a ``text-classification`` pipeline.

    Deterministic for a given ``seed``; about a second of CPU.  Raises ``AssertionError`` if a
    training word tokenizes to ``[UNK]`` (the vocabulary and the headlines drifted apart).
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = build_tokenizer()
    texts = [text for label in LABELS for text in TRAINING_TEXTS[label]]
    targets = [index for index, label in enumerate(LABELS) for _ in TRAINING_TEXTS[label]]
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    unk = tokenizer.unk_token_id
    assert not (encoded["input_ids"] == unk).any(), "a training word is missing from the demo vocabulary"

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: index for index, label in enumerate(LABELS)},
    )
    model = BertForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    labels = torch.tensor(targets)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(**encoded, labels=labels).loss
        loss.backward()
        optimizer.step()
    model.eval()
    return pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")


def build_tiny_text_generator(*, context: int = 2048, seed: int = SEED) -> Any:
    """An untrained 2-layer GPT-2 (32 wide) as a ``text-generation`` pipeline, built offline.

    Its tokenizer is word level over the demo's lower-case words (one token per word, joined
    with spaces), and it has no end-of-text token to stop at, so ``max_new_tokens`` alone sets
    how long a generation runs (up to ``context`` positions): what a streaming test wants.
    Deterministic for a given ``seed``.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast, pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    words = dict.fromkeys(w for w in vocabulary() if w.isalpha())
    vocab = {"[PAD]": 0, "[UNK]": 1, **{word: index for index, word in enumerate(words, start=2)}}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with a space
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", model_max_length=context,
    )
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=context, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=None, eos_token_id=None, pad_token_id=0,
    )
    model = GPT2LMHeadModel(config).eval()
    return pipeline("text-generation", model=model, tokenizer=fast, device="cpu")


def save_iris_classifier(name: str = "iris-classifier") -> Model:
    """Train a LogisticRegression on iris and save it (its training accuracy in the metadata)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from bentotui.frameworks import sklearn

    iris = load_iris()
    clf = LogisticRegression(max_iter=1000, random_state=SEED).fit(iris.data, iris.target)
    return sklearn.save_model(
        name,
        clf,
        labels={"demo": "true", "task": "tabular-classification"},
        metadata={
            "description": "LogisticRegression on the iris data set",
            "features": [str(f) for f in iris.feature_names],
            "classes": [str(c) for c in iris.target_names],
            "train_accuracy": round(float(clf.score(iris.data, iris.target)), 4),
        },
    )


def save_text_classifier(name: str = "text-classifier") -> Model:
    """Build the tiny news classifier pipeline and save it (its labels in the metadata)."""
    from bentotui.frameworks import transformers

    return transformers.save_model(
        name,
        build_tiny_text_pipeline(),
        signatures={"__call__": {"batchable": True, "batch_dim": 0}},
        labels={"demo": "true", "task": "text-classification"},
        metadata={
            "description": "tiny BERT (2 layers, hidden 32) trained offline on made-up news headlines",
            "classes": list(LABELS),
        },
    )


@dataclass(frozen=True)
class DemoModel:
    """One demo model: its store name, a line for the user, and the function that saves it."""

    name: str
    description: str
    save: Callable[[str], Model]
    #: the packages ``save`` imports (the slim bundle lacks torch and transformers)
    requires: tuple[str, ...] = framework("bentotui.sklearn").import_packages

    def missing(self) -> list[str]:
        """The required packages this program cannot import."""
        import importlib.util

        return [package for package in self.requires if importlib.util.find_spec(package) is None]


DEMO_MODELS: tuple[DemoModel, ...] = (
    DemoModel("iris-classifier", "scikit-learn LogisticRegression on iris", save_iris_classifier),
    DemoModel(
        "text-classifier", "tiny transformers news classifier", save_text_classifier,
        framework("bentotui.transformers").import_packages,
    ),
)


def existing(name: str) -> Model | None:
    """The newest stored version of ``name``, or None."""
    from bentotui import models

    try:
        return models.get(name)
    except NotFound:
        return None


def create_demo_models(*, force: bool = False) -> list[Model]:
    """Save every demo model (an existing one is kept unless ``force``); returns them in order."""
    found = []
    for demo in DEMO_MODELS:
        model = None if force else existing(demo.name)
        found.append(model or demo.save(demo.name))
    return found
