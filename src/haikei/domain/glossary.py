"""The bilingual art-direction glossary: canonical tokens, prompt phrases and surface forms.

The data lives in ``glossary.toml`` next to this module (read with ``importlib.resources``).
Each canonical token belongs to one field (season, time_of_day, weather, light, mood, tag) and
carries an English and a Japanese prompt phrase. Surface forms (``forms``, and ``[alias]`` for
forms that mean several tokens at once; ``keep`` for compounds that only look like
glossary words) are what :func:`haikei.domain.direction.parse_direction`
looks for in a director's text.

Matching keys:
- Japanese forms: NFKC, then katakana folded to hiragana and Latin letters to lower case
  (:func:`fold_ja`), so ``アキ``, ``あき`` and ``ｱｷ`` are one key.
- English forms: lower-case words; hyphens and spaces both separate words (:func:`en_words`).
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from haikei.errors import InputError

__all__ = [
    "CLOSED_TOKENS",
    "FIELDS",
    "SINGLE_FIELDS",
    "Glossary",
    "Meaning",
    "Term",
    "en_words",
    "fold_ja",
    "is_latin_letter",
    "load_glossary",
]

FIELDS: tuple[str, ...] = ("season", "time_of_day", "weather", "light", "mood", "tag")
# fields a Direction holds one token of; mood and tag hold many
SINGLE_FIELDS: tuple[str, ...] = ("season", "time_of_day", "weather", "light")
# fields whose tokens are a fixed set (art boards are tagged with these)
CLOSED_TOKENS: Mapping[str, frozenset[str]] = {
    "season": frozenset({"spring", "summer", "autumn", "winter"}),
    "time_of_day": frozenset({"dawn", "morning", "noon", "afternoon", "evening", "night"}),
}

_TOKEN_RE = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Term:
    """One canonical token with its prompt phrases."""

    field: str
    token: str
    en: str
    ja: str
    neg: str = ""
    neg_ja: str = ""

    @property
    def key(self) -> str:
        """``"field.token"``, the notation of the glossary's ``[alias]`` table."""
        return f"{self.field}.{self.token}"


@dataclass(frozen=True)
class Meaning:
    """What one surface form means: the primary term first, then the terms it implies.

    ``terms`` is empty for a ``keep`` word: a known compound that is not direction (空気, 夏目)
    and must stay whole in free text instead of being split into glossary words (空 + 気).
    """

    form: str
    terms: tuple[Term, ...]

    @property
    def primary(self) -> Term:
        return self.terms[0]


def is_latin_letter(ch: str) -> bool:
    """True for letters of the Latin script (a-z, é, ...), after NFKC width folding."""
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")


def fold_ja(text: str) -> str:
    """Matching key for Japanese: katakana -> hiragana, Latin -> lower case; same length as ``text``."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0x30A1 <= o <= 0x30F6:
            out.append(chr(o - 0x60))
        else:
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)
    return "".join(out)


def en_words(text: str) -> list[tuple[str, int, int]]:
    """Latin-script words of ``text`` as (lower-case word, start, end).

    A word is a run of Latin letters, digits and inner apostrophes holding at least one Latin
    letter; anything else (spaces, hyphens, kana, kanji, bare numbers) separates words.
    """
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if not (is_latin_letter(text[i]) or text[i].isdigit()):
            i += 1
            continue
        j = i
        while j < n and (is_latin_letter(text[j]) or text[j].isdigit() or text[j] == "'"):
            j += 1
        end = j
        while end > i and text[end - 1] == "'":
            end -= 1
        word = text[i:end]
        if any(is_latin_letter(ch) for ch in word):
            out.append((word.lower(), i, end))
        i = j
    return out


def _is_english_form(form: str) -> bool:
    return any(is_latin_letter(ch) for ch in form)


@dataclass(frozen=True)
class Glossary:
    """Tokens by (field, token) and surface forms by matching key. Build with :meth:`from_toml`."""

    terms: Mapping[tuple[str, str], Term]
    ja_forms: Mapping[str, Meaning]
    en_forms: Mapping[tuple[str, ...], Meaning]
    max_ja_len: int
    max_en_words: int

    @classmethod
    def from_toml(cls, text: str, *, name: str = "glossary") -> Glossary:
        """Parse and check glossary TOML; refuse duplicates, unknown fields and dangling aliases."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{name}: not valid TOML ({exc}); fix the file") from None
        unknown = sorted(set(data) - set(FIELDS) - {"alias", "keep"})
        if unknown:
            raise InputError(f"{name}: unknown keys {unknown}; use {list(FIELDS)}, 'alias' and 'keep'")

        terms: dict[tuple[str, str], Term] = {}
        single_forms: list[tuple[str, tuple[Term, ...]]] = []
        for fld in FIELDS:
            for token, entry in data.get(fld, {}).items():
                where = f"{name}: [{fld}.{token}]"
                if not _TOKEN_RE.match(token):
                    raise InputError(f"{where}: tokens are lower-case ASCII words with underscores")
                closed = CLOSED_TOKENS.get(fld)
                if closed is not None and token not in closed:
                    raise InputError(f"{where}: {fld} tokens are {sorted(closed)}")
                if not isinstance(entry, dict):
                    raise InputError(f"{where}: must be a table with en, ja and forms")
                extra = sorted(set(entry) - {"en", "ja", "forms", "neg", "neg_ja"})
                if extra:
                    raise InputError(f"{where}: unknown keys {extra}")
                en, ja = entry.get("en"), entry.get("ja")
                if not (isinstance(en, str) and en.strip() and isinstance(ja, str) and ja.strip()):
                    raise InputError(f"{where}: needs non-empty 'en' and 'ja' prompt phrases")
                neg, neg_ja = entry.get("neg", ""), entry.get("neg_ja", "")
                if not (isinstance(neg, str) and isinstance(neg_ja, str)):
                    raise InputError(f"{where}: 'neg' and 'neg_ja' must be strings")
                term = Term(fld, token, en.strip(), ja.strip(), neg.strip(), neg_ja.strip())
                terms[(fld, token)] = term
                forms = entry.get("forms", [])
                if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
                    raise InputError(f"{where}: 'forms' must be a list of strings")
                single_forms.extend((f, (term,)) for f in forms)

        alias = data.get("alias", {})
        if not isinstance(alias, dict):
            raise InputError(f"{name}: [alias] must be a table of form = ['field.token', ...]")
        for form, keys in alias.items():
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise InputError(f"{name}: alias {form!r} must list one or more 'field.token' strings")
            resolved = []
            for k in keys:
                fld, _, token = k.partition(".")
                if (fld, token) not in terms:
                    raise InputError(f"{name}: alias {form!r} names {k!r}, which no [{fld}.{token}] defines")
                resolved.append(terms[(fld, token)])
            single_forms.append((form, tuple(resolved)))

        keep = data.get("keep", [])
        if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
            raise InputError(f"{name}: 'keep' must be a list of words")
        single_forms.extend((k, ()) for k in keep)

        ja_forms: dict[str, Meaning] = {}
        en_forms: dict[tuple[str, ...], Meaning] = {}
        for form, ts in single_forms:
            norm = unicodedata.normalize("NFKC", form).strip()
            if not norm:
                raise InputError(f"{name}: an empty surface form ({[t.key for t in ts]})")
            meaning = Meaning(norm, ts)
            if _is_english_form(norm):
                words = tuple(w for w, _, _ in en_words(norm))
                if " ".join(words) != norm.lower().replace("-", " "):
                    raise InputError(f"{name}: English form {form!r} may hold only words, spaces and hyphens")
                if words in en_forms:
                    raise InputError(f"{name}: form {form!r} is listed twice ({en_forms[words].form!r})")
                en_forms[words] = meaning
            else:
                key = fold_ja(norm)
                if any(ch.isspace() for ch in key):
                    raise InputError(f"{name}: Japanese form {form!r} must not contain spaces")
                if key in ja_forms:
                    raise InputError(f"{name}: form {form!r} is listed twice ({ja_forms[key].form!r})")
                ja_forms[key] = meaning
        return cls(
            terms=terms,
            ja_forms=ja_forms,
            en_forms=en_forms,
            max_ja_len=max((len(k) for k in ja_forms), default=0),
            max_en_words=max((len(k) for k in en_forms), default=0),
        )

    def term(self, field: str, token: str) -> Term | None:
        return self.terms.get((field, token))

    def match_ja(self, folded: str, start: int, end: int) -> tuple[int, Meaning] | None:
        """Longest form starting at ``start`` inside ``folded[start:end]``: (its end, meaning) or None."""
        for stop in range(min(end, start + self.max_ja_len), start, -1):
            meaning = self.ja_forms.get(folded[start:stop])
            if meaning is not None:
                return stop, meaning
        return None

    def match_en(self, words: Sequence[str]) -> tuple[int, Meaning] | None:
        """Longest form at the start of ``words``: (number of words, meaning) or None.

        A last word ending in ``s``/``es``/``ies`` is also tried as its singular.
        """
        for n in range(min(len(words), self.max_en_words), 0, -1):
            head = tuple(words[:n])
            for key in (head, *((*head[:-1], s) for s in _singulars(head[-1]))):
                meaning = self.en_forms.get(key)
                if meaning is not None:
                    return n, meaning
        return None


def _singulars(word: str) -> tuple[str, ...]:
    if len(word) <= 3 or not word.endswith("s") or word.endswith("ss"):
        return ()
    out = [word[:-1]]
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    elif word.endswith("es"):
        out.append(word[:-2])
    return tuple(out)


@functools.cache
def load_glossary() -> Glossary:
    """The packaged glossary (parsed once per process; the result is immutable)."""
    text = resources.files("haikei.domain").joinpath("glossary.toml").read_text(encoding="utf-8")
    return Glossary.from_toml(text, name="haikei/domain/glossary.toml")
