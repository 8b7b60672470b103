"""Reading level of a page's text: Flesch-Douma (Dutch) and Flesch Reading Ease (English).

    Flesch-Douma (nl)  = 206.835 - 0.93 * words per sentence - 77 * syllables per word
    Flesch (en)        = 206.835 - 1.015 * words per sentence - 84.6 * syllables per word

Both read 0 (very hard) to 100 (very easy); 80 and up is "easy", what a pupil of 10 to 12
reads alone. Syllables are counted with pyphen's hyphenation dictionaries (every possible
break, words of any length), a close lower bound for Dutch and English. Sentences end at
. ! ? : and at the end of each heading, paragraph or list item. Addresses (e-mail, web) count
as one word of two syllables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pyphen

FORMULAS = {
    "nl": (206.835, 0.93, 77.0),
    "en": (206.835, 1.015, 84.6),
}
_BLOCKS = {"p", "li", "h1", "h2", "h3", "dt", "dd", "td", "th"}
_ADDRESS = re.compile(r"\S+@\S+|\bwww\.\S+|https?://\S+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")


@dataclass(frozen=True)
class Score:
    score: float
    sentences: int
    words: int
    syllables: int
    longest_sentence: int


class _MainText(HTMLParser):
    """Text blocks inside <main>, leaving out elements with class ``skip_class``."""

    def __init__(self, skip_class: str) -> None:
        super().__init__()
        self.skip_class = skip_class
        self.blocks: list[str] = []
        self._depth = 0  # inside <main>
        self._skip: list[str] = []
        self._current: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "main":
            self._depth += 1
        elif self._skip or self.skip_class in classes:
            self._skip.append(tag)
        if tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
            return
        if tag in _BLOCKS or tag == "main":
            self._flush()
        if tag == "main":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth and not self._skip:
            self._current.append(data)

    def _flush(self):
        text = " ".join("".join(self._current).split())
        if text:
            self.blocks.append(text)
        self._current = []


def main_text_blocks(html: str, *, skip_class: str = "for-parents") -> list[str]:
    parser = _MainText(skip_class)
    parser.feed(html)
    parser.close()
    return parser.blocks


def sentences(blocks: list[str]) -> list[list[str]]:
    result = []
    for block in blocks:
        block = _ADDRESS.sub("adres", block)
        for part in re.split(r"[.!?:]+(?:\s|$)", block):
            words = _WORD.findall(part)
            if words:
                result.append(words)
    return result


def reading_ease(blocks: list[str], language: str) -> Score:
    base, per_word_in_sentence, per_syllable = FORMULAS[language]
    dictionary = pyphen.Pyphen(lang="nl_NL" if language == "nl" else "en_US", left=1, right=1)
    found = sentences(blocks)
    words = [word for sentence in found for word in sentence]
    syllables = sum(len(dictionary.positions(word.lower())) + 1 for word in words)
    score = (
        base
        - per_word_in_sentence * len(words) / len(found)
        - per_syllable * syllables / len(words)
    )
    return Score(
        score=round(score, 1),
        sentences=len(found),
        words=len(words),
        syllables=syllables,
        longest_sentence=max(len(sentence) for sentence in found),
    )
