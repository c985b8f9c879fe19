"""Structured art direction parsed from Japanese or English text, and prompts built from it.

``parse_direction("秋の夕方、逆光、雨上がり")`` gives ``Direction(season="autumn",
time_of_day="evening", weather="after_rain", light="backlit", ...)``; English ("autumn evening,
backlit") and mixed text ("夏 noon 快晴") work the same way. The rules:

- The text is NFKC-normalised (full-width letters and half-width kana unified). Punctuation
  (、。・,./ ...) and line breaks split it into clauses; nothing is matched across them.
- Japanese: longest match against the glossary, katakana and hiragana treated alike. Particles
  (の に で と な や へ を が は も) are split off after a glossary word or between two
  kanji/katakana words; elsewhere they belong to the word around them (みなと stays whole).
  A kana-only glossary word of one or two characters only matches where it is not part of a
  longer kana word (はる in はるか does not).
- English: words are matched as phrases, longest first ("late afternoon", "after the rain");
  a plural "s" is tried off. Articles and prepositions at the edges of unknown words are dropped.
- Unknown words are never dropped: each unknown stretch (a Japanese run, or consecutive English
  words) is kept whole in ``free_text`` as written (after NFKC).
- Conflicts: season, time_of_day, weather and light hold one token. The first one written wins;
  a later different one stays in ``free_text`` as written and ``notes`` says so. An implied
  token (紅葉 implies autumn) never overrides and only adds a note when it disagrees.
- Negation: "no rain", "without clouds", 雨なし, 雲のない put the token in ``avoid``
  (negative prompt) instead of setting it.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from haikei.domain.glossary import SINGLE_FIELDS, Glossary, Meaning, fold_ja, is_latin_letter, load_glossary
from haikei.errors import InputError

__all__ = [
    "BASE_NEGATIVE_EN",
    "BASE_NEGATIVE_JA",
    "BASE_PROMPT_EN",
    "BASE_PROMPT_JA",
    "MAX_DIRECTION_CHARS",
    "Direction",
    "parse_direction",
    "prompt_terms",
]

MAX_DIRECTION_CHARS = 2000

BASE_PROMPT_EN: tuple[str, ...] = (
    "anime background art",
    "painted",
    "detailed scenery",
    "no people",
)
BASE_NEGATIVE_EN: tuple[str, ...] = (
    "people",
    "characters",
    "text",
    "watermark",
    "signature",
    "blurry",
    "lowres",
    "jpeg artifacts",
)
BASE_PROMPT_JA: tuple[str, ...] = ("背景美術", "アニメ背景", "風景", "緻密な背景", "人物なし")
BASE_NEGATIVE_JA: tuple[str, ...] = ("人物", "キャラクター", "文字", "透かし", "ぼやけ", "低解像度", "低品質")

# clause separators (after NFKC: full-width ，．／ are already ASCII)
_SEPARATORS = frozenset('、。・,.;:!?()[]{}<>「」『』【】〈〉《》〔〕"/|\\…‥〜~+*=#&')
_PARTICLES = frozenset("のにでとなやへをがはも")
_JA_NEGATIONS = ("のない", "がない", "なし", "無し", "ない", "抜き")
_EN_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "by", "from", "for", "into", "during"}
)
_EN_NEGATORS = frozenset({"no", "not", "without", "non"})
_TOKEN_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_AVOID_RE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Direction:
    """Art direction for a cut. Every field is a canonical English token or None.

    season: spring | summer | autumn | winter
    time_of_day: dawn | morning | noon | afternoon | evening | night
    weather: clear | cloudy | overcast | rain | after_rain | snow | fog | haze | storm | windy
    light: backlit | frontlit | sidelit | top_light | soft | hard | rim | dappled | golden_hour |
        magic_hour | blue_hour | twilight | crepuscular_rays | moonlight | silhouette | lamplight
    mood: canonical mood tokens (calm, nostalgic, lonely, ...)
    free_text: words the glossary does not know, kept as written (never dropped)
    source: the text as the user wrote it
    extra_tags: content and detail tokens (mountain, rice_paddy, autumn_leaves, sunset_sky ...)
    avoid: negated glossary terms as ``"field.token"`` ("no rain" -> ``"weather.rain"``)
    notes: what the parser decided about conflicts, in words a person can read
    """

    season: str | None = None
    time_of_day: str | None = None
    weather: str | None = None
    light: str | None = None
    mood: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    source: str = ""
    extra_tags: tuple[str, ...] = field(default=())
    avoid: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def tags(self) -> frozenset[str]:
        """Tokens an engine matches against art-board tags (season, time, weather, light, mood)."""
        out = {t for t in (self.season, self.time_of_day, self.weather, self.light) if t}
        out.update(self.mood)
        out.update(self.extra_tags)
        return frozenset(out)

    def to_json(self) -> dict[str, Any]:
        """Plain dict (JSON types only) for the database and recipes; see :meth:`from_json`."""
        return {
            "season": self.season,
            "time_of_day": self.time_of_day,
            "weather": self.weather,
            "light": self.light,
            "mood": list(self.mood),
            "extra_tags": list(self.extra_tags),
            "avoid": list(self.avoid),
            "free_text": list(self.free_text),
            "notes": list(self.notes),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Direction:
        """Inverse of :meth:`to_json`. Missing keys take defaults; unknown keys and bad types are refused."""
        if not isinstance(data, Mapping):
            raise InputError(f"a direction must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"direction has unknown keys {unknown}; known keys are {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for name in SINGLE_FIELDS:
            value = data.get(name)
            if value is not None and not (isinstance(value, str) and _TOKEN_RE.match(value)):
                raise InputError(f"direction {name} must be null or a lower-case token, not {value!r}")
            kwargs[name] = value
        for name, pattern in (("mood", _TOKEN_RE), ("extra_tags", _TOKEN_RE), ("avoid", _AVOID_RE)):
            kwargs[name] = _str_tuple(data, name, pattern)
        for name in ("free_text", "notes"):
            kwargs[name] = _str_tuple(data, name, None)
        source = data.get("source", "")
        if not isinstance(source, str):
            raise InputError(f"direction source must be a string, not {type(source).__name__}")
        kwargs["source"] = source
        return cls(**kwargs)


def _str_tuple(data: Mapping[str, Any], name: str, pattern: re.Pattern[str] | None) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(f"direction {name} must be a list of strings, not {value!r}")
    if pattern is not None:
        bad = [v for v in value if not pattern.match(v)]
        if bad:
            raise InputError(f"direction {name} holds malformed tokens {bad}")
    return tuple(value)


# ---------------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Unit:
    """One English word or one Japanese character of a clause."""

    kind: Literal["en", "ja"]
    start: int
    end: int
    key: str  # lower-case word (en) or the folded character (ja)
    gap_before: bool  # whitespace or a hyphen separates it from the previous unit


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f" or ch == "ー"


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30ff"


def _same_kana_script(a: str, b: str) -> bool:
    return (_is_hiragana(a) and _is_hiragana(b)) or (_is_katakana(a) and _is_katakana(b) and a != "・")


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise InputError(f"direction text must be a string, not {type(text).__name__}")
    if len(text) > MAX_DIRECTION_CHARS:
        raise InputError(
            f"direction text is {len(text)} characters; the limit is {MAX_DIRECTION_CHARS}. "
            "Write the direction as short phrases (秋の夕方、逆光) and keep notes elsewhere"
        )
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\t\n\r") or cat == "Cs":
            raise InputError(
                f"direction text holds a control character U+{ord(ch):04X} at position {i}; remove it"
            )
    return unicodedata.normalize("NFKC", text)


def _clauses(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch in _SEPARATORS or ch in "\n\r":
            if start < i:
                spans.append((start, i))
            start = i + 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _units(text: str, folded: str, start: int, end: int) -> list[_Unit]:
    units: list[_Unit] = []
    i, gap = start, False
    while i < end:
        ch = text[i]
        if ch.isspace() or ch in "-_":
            gap, i = True, i + 1
            continue
        if is_latin_letter(ch) or ch.isdigit():
            j = i
            while j < end and (is_latin_letter(text[j]) or text[j].isdigit() or text[j] == "'"):
                j += 1
            stop = j
            while stop > i and text[stop - 1] == "'":
                stop -= 1
            if any(is_latin_letter(c) for c in text[i:stop]):
                units.append(_Unit("en", i, stop, text[i:stop].lower(), gap))
                gap, i = False, j
                continue
            # a bare number (3時, 2000年): one Japanese-side unit per character
            for k in range(i, j):
                units.append(_Unit("ja", k, k + 1, folded[k], gap and k == i))
            gap, i = False, j
            continue
        units.append(_Unit("ja", i, i + 1, folded[i], gap))
        gap, i = False, i + 1
    return units


class _Builder:
    """Collects assignments while scanning; the first token of a single-valued field wins."""

    def __init__(self) -> None:
        self.single: dict[str, str | None] = dict.fromkeys(SINGLE_FIELDS)
        self.multi: dict[str, list[str]] = {"mood": [], "tag": []}
        self.free: list[str] = []
        self.avoid: list[str] = []
        self.notes: list[str] = []

    def add_free(self, words: str) -> None:
        words = words.strip()
        if words and words not in self.free:
            self.free.append(words)

    def apply(self, meaning: Meaning, surface: str, negated: bool) -> None:
        primary = meaning.primary
        if negated:
            if primary.key not in self.avoid:
                self.avoid.append(primary.key)
            return
        for n, term in enumerate(meaning.terms):
            if term.field not in self.single:
                if term.token not in self.multi[term.field]:
                    self.multi[term.field].append(term.token)
                continue
            current = self.single[term.field]
            if current is None:
                self.single[term.field] = term.token
            elif current != term.token:
                if n == 0:
                    self.add_free(surface)
                    self.notes.append(
                        f"{term.field}: kept {current!r}; {surface!r} ({term.token}) is a second "
                        f"{term.field.replace('_', ' ')} and stays in free text"
                    )
                    return
                self.notes.append(f"{term.field}: kept {current!r}; {surface!r} also suggests {term.token!r}")


def _scan_clause(text: str, folded: str, span: tuple[int, int], gl: Glossary, out: _Builder) -> None:
    units = _units(text, folded, *span)
    starts = [u.start for u in units]
    pending: list[_Unit] = []

    def flush() -> None:
        while pending and pending[0].kind == "en" and pending[0].key in _EN_STOPWORDS:
            pending.pop(0)
        while pending and pending[-1].kind == "en" and pending[-1].key in _EN_STOPWORDS:
            pending.pop()
        # a stretch of particles alone (the のに of 春なのに) is grammar, not a word
        if pending and not all(p.kind == "ja" and text[p.start] in _PARTICLES for p in pending):
            out.add_free(text[pending[0].start : pending[-1].end])
        pending.clear()

    # end of the Japanese run (no gap, no English word) that each unit sits in
    run_ends = [0] * len(units)
    for k in range(len(units) - 1, -1, -1):
        nxt = units[k + 1] if k + 1 < len(units) else None
        joined = nxt is not None and nxt.kind == "ja" and units[k].kind == "ja" and not nxt.gap_before
        run_ends[k] = run_ends[k + 1] if joined else units[k].end

    def ja_match(k: int) -> tuple[int, Meaning] | None:
        u = units[k]
        end = run_ends[k]
        found = gl.match_ja(folded, u.start, end)
        if found is None:
            return None
        stop = found[0]
        surface = text[u.start : stop]
        short_kana = len(surface) <= 2 and all(_is_hiragana(c) or _is_katakana(c) for c in surface)
        if short_kana:
            before = text[u.start - 1] if k > 0 and not u.gap_before and units[k - 1].kind == "ja" else ""
            after = text[stop] if stop < end else ""
            if before and _same_kana_script(before, surface[0]) and before not in _PARTICLES:
                return None
            negation_follows = any(folded.startswith(neg, stop) for neg in _JA_NEGATIONS)
            if (
                after
                and _same_kana_script(surface[-1], after)
                and after not in _PARTICLES
                and not negation_follows
            ):
                return None
        return found

    after_match = False
    k = 0
    while k < len(units):
        u = units[k]
        if u.gap_before and pending and not (u.kind == "en" and pending[-1].kind == "en"):
            flush()
        if u.kind == "en":
            j = k
            while j < len(units) and units[j].kind == "en":
                j += 1
            found_en = gl.match_en([w.key for w in units[k:j]])
            if found_en is not None and found_en[1].terms:
                n, meaning = found_en
                negated = bool(pending) and pending[-1].key in _EN_NEGATORS
                if negated:
                    pending.pop()
                flush()
                out.apply(meaning, text[u.start : units[k + n - 1].end], negated)
                k, after_match = k + n, True
                continue
            if found_en is not None:  # a keep word: unknown, but whole
                pending.extend(units[k : k + found_en[0]])
                k, after_match = k + found_en[0], False
                continue
            if not pending and u.key in _EN_STOPWORDS:
                k += 1
                continue
            pending.append(u)
            k, after_match = k + 1, False
            continue

        found = ja_match(k)
        if found is not None and not found[1].terms:  # a keep word: unknown, but whole
            stop = found[0]
            while k < len(units) and units[k].start < stop:
                pending.append(units[k])
                k += 1
            after_match = False
            continue
        if found is not None:
            stop, meaning = found
            flush()
            end = run_ends[k]
            negated = False
            for neg in _JA_NEGATIONS:
                if folded.startswith(neg, stop) and stop + len(neg) <= end:
                    negated, stop = True, stop + len(neg)
                    break
            out.apply(meaning, text[u.start : found[0]], negated)
            k, after_match = bisect.bisect_left(starts, stop), True
            continue
        ch = text[u.start]
        if ch in _PARTICLES and not u.gap_before:
            prev = units[k - 1] if k > 0 and units[k - 1].kind == "ja" else None
            nxt = units[k + 1] if k + 1 < len(units) and not units[k + 1].gap_before else None
            between_words = (
                prev is not None
                and not _is_hiragana(text[prev.start])
                and nxt is not None
                and nxt.kind == "ja"
                and (not _is_hiragana(text[nxt.start]) or ja_match(k + 1) is not None)
            )
            if after_match or between_words:
                flush()
                k, after_match = k + 1, False
                continue
        pending.append(u)
        k, after_match = k + 1, False
    flush()


def parse_direction(text: str, glossary: Glossary | None = None) -> Direction:
    """Parse Japanese, English or mixed art direction into a :class:`Direction` (rules: module doc).

    Raises :class:`InputError` for text over ``MAX_DIRECTION_CHARS`` characters, control
    characters, or a non-string. Empty or punctuation-only text gives an empty Direction.
    """
    norm = _check_text(text)
    gl = glossary if glossary is not None else load_glossary()
    folded = fold_ja(norm)
    out = _Builder()
    for span in _clauses(norm):
        _scan_clause(norm, folded, span, gl, out)
    return Direction(
        season=out.single["season"],
        time_of_day=out.single["time_of_day"],
        weather=out.single["weather"],
        light=out.single["light"],
        mood=tuple(out.multi["mood"]),
        free_text=tuple(out.free),
        source=text,
        extra_tags=tuple(out.multi["tag"]),
        avoid=tuple(out.avoid),
        notes=tuple(out.notes),
    )


# ---------------------------------------------------------------------------------- prompts


def _phrase(gl: Glossary, fld: str, token: str, language: str) -> str:
    term = gl.term(fld, token)
    if term is None:  # a token from a newer/older glossary: its readable form, not a guess
        return token.replace("_", " ")
    return term.en if language == "en" else term.ja


def _negative(gl: Glossary, fld: str, token: str, language: str) -> str:
    term = gl.term(fld, token)
    if term is None:
        return ""
    return term.neg if language == "en" else term.neg_ja


def _join(parts: list[str], sep: str) -> str:
    seen: list[str] = []
    for part in parts:
        for piece in (p.strip() for p in part.split(sep.strip())):
            if piece and piece not in seen:
                seen.append(piece)
    return sep.join(seen)


def _clean_source(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKC", text)
    return [" ".join(norm[a:b].split()) for a, b in _clauses(norm) if norm[a:b].strip()]


def prompt_terms(
    d: Direction, language: Literal["en", "ja"] = "en", glossary: Glossary | None = None
) -> tuple[str, str]:
    """(prompt, negative prompt) for an anime-background Stable Diffusion model.

    ``"en"``: the glossary's English phrase for each token (season, time, weather, light, mood,
    content) and ``free_text`` unchanged, then the base terms; for an English CLIP text encoder.
    ``"ja"``: the direction as written (its cleaned ``source``) when the source still parses to
    this Direction, else the glossary's Japanese phrases and ``free_text``; then Japanese base terms.
    The direction comes first because CLIP truncates at 77 tokens.
    Negative: base terms, what the tokens rule out (night -> daylight), and ``avoid``.
    """
    if language not in ("en", "ja"):
        raise InputError(f"prompt language must be 'en' or 'ja', not {language!r}")
    gl = glossary if glossary is not None else load_glossary()
    # what the art director asked for comes first: CLIP reads 77 tokens and drops the rest,
    # so season / time / weather / light, then mood, then content, and the base terms last
    tokens: list[tuple[str, str]] = [(f, v) for f in SINGLE_FIELDS if (v := getattr(d, f)) is not None]
    tokens += [("mood", t) for t in d.mood]
    tokens += [("tag", t) for t in d.extra_tags]
    avoided = [tuple(a.split(".", 1)) for a in d.avoid]
    sep = ", " if language == "en" else "、"

    if language == "en":
        positive = [*(_phrase(gl, f, t, "en") for f, t in tokens), *d.free_text, *BASE_PROMPT_EN]
        negative = list(BASE_NEGATIVE_EN)
    else:
        body: list[str]
        if d.source and _same_content(parse_direction(d.source, gl), d):
            body = _clean_source(d.source)
        else:
            body = [*(_phrase(gl, f, t, "ja") for f, t in tokens), *d.free_text]
        positive = [*body, *BASE_PROMPT_JA]
        negative = list(BASE_NEGATIVE_JA)
    negative += [_negative(gl, f, t, language) for f, t in tokens]
    negative += [_phrase(gl, f, t, language) for f, t in avoided]
    return _join(positive, sep), _join(negative, sep)


def _same_content(a: Direction, b: Direction) -> bool:
    return dataclasses.replace(a, source="", notes=()) == dataclasses.replace(b, source="", notes=())
