"""The tokenizer of Kim (2014)'s released code, `clean_str`: lower-case, punctuation split off."""

from __future__ import annotations

import re

_DROP = re.compile(r"[^A-Za-z0-9(),!?'`]")
_CLITICS = re.compile(r"('s|'ve|n't|'re|'d|'ll)\b")
_PUNCT = re.compile(r"([,!?()])")


def tokenize(sentence: str) -> list[str]:
    """Kim's rules: keep letters, digits and , ! ? ( ) ' `; split clitics and punctuation; lower-case.

    Kim's code drops every other character (full stops included); so does this.
    """
    s = _DROP.sub(" ", sentence)
    s = _CLITICS.sub(r" \1", s)
    s = _PUNCT.sub(r" \1 ", s)
    return s.lower().split()
