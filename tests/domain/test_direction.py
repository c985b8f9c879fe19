"""Art direction: parsing Japanese / English / mixed text, the glossary, prompts, JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haikei.domain.direction import (
    BASE_NEGATIVE_EN,
    BASE_PROMPT_EN,
    BASE_PROMPT_JA,
    MAX_DIRECTION_CHARS,
    Direction,
    parse_direction,
    prompt_terms,
)
from haikei.domain.glossary import CLOSED_TOKENS, FIELDS, Glossary, en_words, is_latin_letter, load_glossary
from haikei.domain.vocabulary import DEFAULT_CLASSES
from haikei.errors import InputError


def fields_of(d: Direction) -> dict[str, object]:
    """The parsed content (what a test asserts), without source and notes."""
    out = d.to_json()
    del out["source"], out["notes"]
    return out


# ------------------------------------------------------------------ the brief's examples


def test_japanese_example() -> None:
    d = parse_direction("秋の夕方、逆光、雨上がり")
    assert (d.season, d.time_of_day, d.weather, d.light) == ("autumn", "evening", "after_rain", "backlit")
    assert d.free_text == () and d.mood == () and d.notes == ()
    assert d.source == "秋の夕方、逆光、雨上がり"


def test_english_example() -> None:
    d = parse_direction("autumn evening, backlit")
    assert (d.season, d.time_of_day, d.light) == ("autumn", "evening", "backlit")
    assert d.free_text == ()


def test_mixed_example() -> None:
    d = parse_direction("夏 noon 快晴")
    assert (d.season, d.time_of_day, d.weather) == ("summer", "noon", "clear")
    assert d.free_text == ()


def test_mixed_without_spaces() -> None:
    d = parse_direction("夏noon快晴")
    assert (d.season, d.time_of_day, d.weather) == ("summer", "noon", "clear")


# ------------------------------------------------------------------ variants of one meaning


@pytest.mark.parametrize(
    "text",
    [
        "夕方",
        "夕暮れ",
        "夕暮",
        "ゆうぐれ",
        "黄昏",
        "たそがれ",
        "タソガレ",
        "ﾀｿｶﾞﾚ",
        "夕刻",
        "evening",
        "Dusk",
        "ＤＵＳＫ",
    ],
)
def test_evening_variants(text: str) -> None:
    assert parse_direction(text).time_of_day == "evening"


@pytest.mark.parametrize(
    ("text", "field", "token"),
    [
        ("早朝", "time_of_day", "morning"),
        ("夜明け", "time_of_day", "dawn"),
        ("明け方", "time_of_day", "dawn"),
        ("昼", "time_of_day", "noon"),
        ("日中", "time_of_day", "noon"),
        ("午後", "time_of_day", "afternoon"),
        ("深夜", "time_of_day", "night"),
        ("真夜中", "time_of_day", "night"),
        ("はる", "season", "spring"),
        ("晩秋", "season", "autumn"),
        ("fall", "season", "autumn"),
        ("曇り", "weather", "cloudy"),
        ("小雨", "weather", "rain"),
        ("霧", "weather", "fog"),
        ("霞", "weather", "haze"),
        ("台風", "weather", "storm"),
        ("雨上り", "weather", "after_rain"),
        ("after the rain", "weather", "after_rain"),
        ("サイド光", "light", "sidelit"),
        ("木漏れ日", "light", "dappled"),
        ("マジックアワー", "light", "magic_hour"),
        ("golden hour", "light", "golden_hour"),
        ("back-lit", "light", "backlit"),
        ("薄明", "light", "twilight"),
    ],
)
def test_single_field_terms(text: str, field: str, token: str) -> None:
    d = parse_direction(text)
    assert getattr(d, field) == token
    assert d.free_text == ()


@pytest.mark.parametrize(
    ("text", "mood"),
    [
        ("ノスタルジック", "nostalgic"),
        ("懐かしい", "nostalgic"),
        ("寂しい", "lonely"),
        ("さびしい", "lonely"),
        ("穏やか", "calm"),
        ("不穏", "ominous"),
        ("melancholic", "melancholic"),
    ],
)
def test_moods(text: str, mood: str) -> None:
    assert parse_direction(text).mood == (mood,)


def test_content_words_become_region_class_tags() -> None:
    d = parse_direction("山と田んぼ、海、川沿いの道")
    assert d.extra_tags == ("mountain", "rice_paddy", "sea", "river", "road")
    names = {c.name for c in DEFAULT_CLASSES}
    assert set(d.extra_tags) <= names  # engines can match them against region classes


def test_english_plurals_and_phrases() -> None:
    d = parse_direction("evening in the mountains, rice paddies and power lines, late afternoon")
    assert d.time_of_day == "evening"
    assert d.extra_tags == ("mountain", "rice_paddy", "pole", "late_afternoon")
    # "late afternoon" is a detail tag that also implies afternoon: evening stays, a note says so
    assert d.free_text == ()
    assert len(d.notes) == 1 and "time_of_day" in d.notes[0] and "afternoon" in d.notes[0]


def test_implied_tokens() -> None:
    d = parse_direction("紅葉の山、夕焼け")
    assert (d.season, d.time_of_day) == ("autumn", "evening")
    assert d.extra_tags == ("autumn_leaves", "mountain", "sunset_sky")


def test_many_real_phrases() -> None:
    cases = {
        "夏の昼下がり、入道雲、田舎の駅": dict(
            season="summer", time_of_day="afternoon", extra_tags=["cumulonimbus", "countryside", "station"]
        ),
        "冬の早朝、雪、静か": dict(season="winter", time_of_day="morning", weather="snow", mood=["calm"]),
        "春 朝 桜並木 柔らかい光": dict(
            season="spring", time_of_day="morning", light="soft", extra_tags=["cherry_blossoms", "path"]
        ),
        "深夜の住宅街、街灯、不穏": dict(
            time_of_day="night", mood=["ominous"], extra_tags=["building", "street_lamp"], free_text=[]
        ),
        "foggy morning at the harbor, lonely": dict(
            time_of_day="morning", weather="fog", mood=["lonely"], extra_tags=["harbor"]
        ),
        "starry night over the sea, calm": dict(
            time_of_day="night", mood=["calm"], extra_tags=["starry_sky", "sea"]
        ),
        "雨の日の交差点": dict(weather="rain", extra_tags=["road"]),
        "晩秋の夕暮れ、木漏れ日、ノスタルジック": dict(
            season="autumn",
            time_of_day="evening",
            light="dappled",
            mood=["nostalgic"],
            extra_tags=["late_autumn"],
        ),
    }
    for text, expected in cases.items():
        got = fields_of(parse_direction(text))
        for key, value in expected.items():
            assert got[key] == value, (text, key, got)


# ------------------------------------------------------------------ unknown words, particles, kana


def test_unknown_japanese_runs_kept_whole() -> None:
    d = parse_direction("古い神社の鳥居、夏の昼下がり、ガスタンク")
    assert d.free_text == ("古い", "ガスタンク")
    assert d.extra_tags == ("shrine",)
    assert (d.season, d.time_of_day) == ("summer", "afternoon")


def test_unknown_english_words_kept_together() -> None:
    d = parse_direction("old wooden houses by a canal at dusk")
    assert d.time_of_day == "evening"
    assert d.extra_tags == ("building",)
    assert d.free_text == ("old wooden", "canal")


def test_nothing_is_dropped_but_grammar() -> None:
    text = "秋の夕方、ブリキの屋台に長い影、錆びた看板"
    d = parse_direction(text)
    assert d.free_text == ("ブリキ", "屋台", "錆びた看板")
    assert (d.season, d.time_of_day) == ("autumn", "evening")
    assert d.extra_tags == ("long_shadows",)


def test_particles_are_split_only_between_words() -> None:
    assert parse_direction("静かな田舎の駅").free_text == ()
    # みなと (harbour) holds な and と but they are not particles there
    d = parse_direction("みなとの夜")
    assert d.extra_tags == ("harbor",) and d.time_of_day == "night"


def test_short_kana_words_do_not_match_inside_longer_words() -> None:
    d = parse_direction("はるかな山")  # はるか = far away, not はる (spring)
    assert d.season is None
    assert d.free_text == ("はるかな",)
    assert parse_direction("なつかしい").mood == ("nostalgic",)  # not なつ (summer)
    assert parse_direction("はるの海").season == "spring"


def test_keep_words_are_not_split() -> None:
    d = parse_direction("澄んだ空気、秋葉原")
    assert d.extra_tags == ()  # no 空 (sky)
    assert d.free_text == ("澄んだ空気", "秋葉原")
    assert d.season is None


def test_nfkc_full_width_and_half_width_kana() -> None:
    assert fields_of(parse_direction("ＡＵＴＵＭＮ　ｴﾓｲ")) == fields_of(parse_direction("autumn エモイ"))


# ------------------------------------------------------------------ conflicts and negation


def test_second_season_goes_to_free_text_with_a_note() -> None:
    d = parse_direction("春と秋")
    assert d.season == "spring"
    assert d.free_text == ("秋",)
    assert len(d.notes) == 1 and "spring" in d.notes[0] and "秋" in d.notes[0]


def test_same_token_twice_is_not_a_conflict() -> None:
    d = parse_direction("夕方、夕暮れ、evening")
    assert d.time_of_day == "evening" and d.free_text == () and d.notes == ()


def test_implied_token_never_overrides() -> None:
    d = parse_direction("夏 紅葉")
    assert d.season == "summer" and d.extra_tags == ("autumn_leaves",)
    assert d.free_text == () and len(d.notes) == 1


def test_negation_goes_to_avoid() -> None:
    d = parse_direction("no rain, without clouds, 雲のない青空、霧なし")
    assert d.weather == "clear"
    assert d.avoid == ("weather.rain", "tag.cloud", "weather.fog")
    assert "cloud" not in d.extra_tags
    _, negative = prompt_terms(d, "en")
    assert "rain" in negative and "clouds" in negative and "fog" in negative


# ------------------------------------------------------------------ edges and refusals


@pytest.mark.parametrize("text", ["", "   ", "、。・", "!?,./", "\n\t"])
def test_empty_and_punctuation_only(text: str) -> None:
    d = parse_direction(text)
    assert fields_of(d) == fields_of(Direction())
    assert d.source == text


def test_too_long_is_refused() -> None:
    parse_direction("秋" * MAX_DIRECTION_CHARS)  # at the limit: fine
    with pytest.raises(InputError, match="limit is 2000"):
        parse_direction("秋" * (MAX_DIRECTION_CHARS + 1))


def test_control_characters_and_non_strings_are_refused() -> None:
    with pytest.raises(InputError, match="control character"):
        parse_direction("秋\x00夕方")
    with pytest.raises(InputError, match="must be a string"):
        parse_direction(b"autumn")  # type: ignore[arg-type]


def test_deterministic() -> None:
    text = "晩秋の夕暮れ、逆光、golden hour, 古い商店街, no people, 寂しい"
    first = parse_direction(text)
    for _ in range(3):
        assert parse_direction(text) == first
    assert prompt_terms(first, "en") == prompt_terms(parse_direction(text), "en")


def test_long_real_text_is_fast() -> None:
    import time

    text = ("秋の夕方、逆光、雨上がりの商店街、ノスタルジック、evening after the rain, power lines. " * 30)[
        :2000
    ]
    t0 = time.perf_counter()
    d = parse_direction(text)
    assert time.perf_counter() - t0 < 1.0
    assert d.season == "autumn"


# ------------------------------------------------------------------ prompts


def test_english_prompt() -> None:
    d = parse_direction("秋の夕方、逆光、雨上がり、古いポスト")
    prompt, negative = prompt_terms(d, "en")
    for base in BASE_PROMPT_EN:
        assert base in prompt
    for term in ("autumn", "evening", "after the rain", "backlit"):
        assert term in prompt
    assert (
        "backlit, light from behind, 古いポスト, anime background art" in prompt
    )  # free text unchanged, before the base terms
    for base in BASE_NEGATIVE_EN:
        assert base in negative
    assert "秋" not in prompt  # the glossary words are translated, not copied


def test_night_rules_out_daylight() -> None:
    _, negative = prompt_terms(parse_direction("night"), "en")
    assert "daylight" in negative
    _, negative = prompt_terms(parse_direction("noon"), "en")
    assert "daylight" not in negative


def test_japanese_prompt_uses_the_text_as_written() -> None:
    d = parse_direction("秋の夕方、逆光。雨上がり　古いポスト")
    prompt, negative = prompt_terms(d, "ja")
    assert prompt.endswith("、".join(BASE_PROMPT_JA))  # the direction first: CLIP truncates at 77 tokens
    assert prompt.startswith("秋の夕方、逆光、雨上がり 古いポスト")
    assert "人物" in negative and "people" not in negative


def test_japanese_prompt_follows_a_changed_direction() -> None:
    d = parse_direction("秋の夕方、逆光")
    winter = dataclasses.replace(d, season="winter")  # a variant: the source no longer says it
    prompt, _ = prompt_terms(winter, "ja")
    assert "冬" in prompt and "秋" not in prompt and "夕方" in prompt and "逆光" in prompt


def test_prompt_from_english_direction_in_japanese() -> None:
    prompt, _ = prompt_terms(parse_direction("autumn evening"), "ja")
    assert prompt.startswith("autumn evening、")  # as written
    prompt, _ = prompt_terms(Direction(season="autumn", time_of_day="evening"), "ja")
    assert prompt.startswith("秋、夕方")


def test_empty_direction_gives_base_prompts() -> None:
    prompt, negative = prompt_terms(Direction(), "en")
    assert prompt == ", ".join(BASE_PROMPT_EN)
    assert negative == ", ".join(BASE_NEGATIVE_EN)


def test_unknown_token_is_written_readably_and_bad_language_refused() -> None:
    prompt, _ = prompt_terms(Direction(extra_tags=("paper_lantern",)), "en")
    assert prompt.startswith("paper lantern")
    with pytest.raises(InputError, match="'en' or 'ja'"):
        prompt_terms(Direction(), "fr")  # type: ignore[arg-type]


def test_no_duplicate_phrases() -> None:
    prompt, _ = prompt_terms(parse_direction("evening dusk, 夕方, painted"), "en")
    parts = prompt.split(", ")
    assert len(parts) == len(set(parts))
    assert parts.count("painted") == 1


# ------------------------------------------------------------------ JSON


def test_json_round_trip() -> None:
    d = parse_direction("春と秋、夕方、no rain, 寂しい 古い駅舎、桜")
    data = d.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert Direction.from_json(json.loads(json.dumps(data))) == d
    assert Direction.from_json({}) == Direction()


@pytest.mark.parametrize(
    "data",
    [
        {"season": 3},
        {"season": "Autumn!"},
        {"mood": "calm"},
        {"mood": [1]},
        {"avoid": ["rain"]},
        {"colour": "red"},
        {"source": None},
        ["season", "autumn"],
    ],
)
def test_json_refuses_bad_data(data: object) -> None:
    with pytest.raises(InputError):
        Direction.from_json(data)  # type: ignore[arg-type]


def test_tags_include_content_and_mood() -> None:
    d = parse_direction("夏 夕方 海 穏やか")
    assert d.tags() == frozenset({"summer", "evening", "sea", "calm"})


# ------------------------------------------------------------------ the glossary itself


def test_glossary_size_and_coverage() -> None:
    g = load_glossary()
    assert len(g.terms) >= 150
    assert len(g.ja_forms) + len(g.en_forms) >= 1000
    fields = {f for f, _ in g.terms}
    assert fields == set(FIELDS)
    for fld, tokens in CLOSED_TOKENS.items():
        assert {t for f, t in g.terms if f == fld} == tokens
    # every token named in Direction's docstring exists
    for fld in ("weather", "light"):
        doc = Direction.__doc__ or ""
        line = next(ln for ln in doc.splitlines() if ln.strip().startswith(f"{fld}:"))
        block = doc[doc.index(line) :].split("mood:")[0] if fld == "light" else line
        named = {w.strip() for w in block.split(":", 1)[1].replace("\n", " ").split("|")}
        assert named <= {t for f, t in g.terms if f == fld}


def test_glossary_refuses_bad_data() -> None:
    with pytest.raises(InputError, match="listed twice"):
        Glossary.from_toml('[mood.calm]\nen="calm"\nja="静か"\nforms=["しずか","シズカ"]\n')
    with pytest.raises(InputError, match="season tokens"):
        Glossary.from_toml('[season.monsoon]\nen="m"\nja="m"\nforms=[]\n')
    with pytest.raises(InputError, match=r"no \[tag\.nothing\] defines"):
        Glossary.from_toml('[alias]\n"x" = ["tag.nothing"]\n')
    with pytest.raises(InputError, match="not valid TOML"):
        Glossary.from_toml("[mood.calm\n")


def test_custom_glossary_is_used() -> None:
    g = Glossary.from_toml(
        '[tag.lantern]\nen="paper lanterns"\nja="提灯"\nforms=["提灯", "ちょうちん", "paper lantern"]\n'
    )
    d = parse_direction("提灯の夕方", g)
    assert d.extra_tags == ("lantern",)
    assert d.free_text == ("夕方",)  # this glossary does not know 夕方
    assert prompt_terms(d, "en", g)[0].startswith("paper lanterns, 夕方")


# ------------------------------------------------------------------ properties

_ALPHABET = "秋夕方逆光雨上がり山海空気街灯のにでとなやはるかみなとアキガスタンク abcfallrin,、。・-'3"


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_no_content_character_is_lost(text: str) -> None:
    """With a glossary that knows nothing, every kanji, katakana and English word (but a lone
    article or preposition) ends in free text."""
    d = parse_direction(text, Glossary.from_toml(""))
    kept = " ".join(d.free_text)
    for ch in text:
        if ch.isalpha() and not is_latin_letter(ch) and not ("\u3041" <= ch <= "\u309f"):
            assert ch in kept, (text, d.free_text)
    for word, _, _ in en_words(text):
        if word not in {"a", "in", "an", "on", "of", "or", "by", "for"}:
            assert word in kept.lower(), (text, d.free_text)
    assert d.tags() == frozenset()


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_parse_is_total_and_free_text_is_from_the_text(text: str) -> None:
    d = parse_direction(text)
    for words in d.free_text:
        assert words and words in text
    assert Direction.from_json(d.to_json()) == d
    prompt_terms(d, "en")
    prompt_terms(d, "ja")
