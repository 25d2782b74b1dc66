"""Another sentence encoder behind the `Encoder` interface (`DEDUP_ENCODER`): the matcher is
untouched, the languages covered are the plugged encoder's, and a wrong setting is refused
at start with a message that says what is wrong."""

from collections.abc import Sequence

import numpy as np
import pytest

from dedup.adapters.encoder import Encoder, SentenceEncoder, load_encoder
from dedup.errors import InvalidSettings
from dedup.services.detector import ArticleInput, Detector
from tests.dedup.test_languages import ENGLISH, GERMAN, JAPANESE


class EnglishAndGerman:
    """A deployment's own encoder: here the shipped model, trusted for two languages only."""

    languages = frozenset({"en", "de"})

    def __init__(self) -> None:
        self._model = SentenceEncoder()

    def __call__(self, sentences: Sequence[str]) -> np.ndarray:
        return self._model(sentences)

    def knows(self, language: str) -> bool:
        return language in self.languages

    def warm(self) -> None:
        self._model.warm()


def plugged(detector: Detector) -> Detector:
    spec = "tests.dedup.test_encoder_plugin:EnglishAndGerman"
    return Detector(detector.store, detector.settings.model_copy(update={"encoder": spec}))


def test_a_plugged_encoder_finds_translations_in_its_languages(detector: Detector) -> None:
    mine = plugged(detector)
    assert isinstance(mine.encoder, Encoder)
    assert isinstance(mine.encoder, EnglishAndGerman)
    source = mine.ingest(ArticleInput(url="https://weser.example/tram", text=ENGLISH))
    copy = mine.ingest(ArticleInput(url="https://kurier.example/tram", text=GERMAN))
    (match,) = [m for m in copy.matches if m.is_copy]
    assert (match.article.id, match.verified_by) == (source.article.id, "meaning")


def test_a_language_outside_the_plugged_encoder_is_said_so(detector: Detector) -> None:
    answer = plugged(detector).check(ArticleInput(url="https://tokyo.example/a", text=JAPANESE))
    assert answer.meaning is not None
    assert "'ja' is not one the sentence encoder knows (de, en)" in answer.meaning


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("no.such.module:Encoder", "cannot make an encoder from it"),
        ("dedup.adapters.encoder:NoSuchName", "cannot make an encoder from it"),
        ("collections:OrderedDict", "OrderedDict is not an encoder"),
    ],
)
def test_a_wrong_encoder_setting_is_refused_with_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(InvalidSettings, match=says):
        load_encoder(spec)
