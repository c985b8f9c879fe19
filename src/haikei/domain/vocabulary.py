"""The region class vocabulary shared by layouts' region maps and art boards' label maps.

A region map is an RGB image whose every pixel has one of the vocabulary's colours; inside
haikei it becomes a ``uint8`` array of class ids (``UNLABELLED`` = 255 for areas nobody has
labelled yet). Engines fall back along a class's ``fallback`` chain when no chosen art board
shows that class (a road painted from ground, then rock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_CLASSES",
    "UNLABELLED",
    "UNLABELLED_COLOUR",
    "RegionClass",
    "Vocabulary",
]

UNLABELLED = 255
UNLABELLED_COLOUR: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class RegionClass:
    """One class of area in a background: its id, standard colour and fallback chain."""

    id: int
    name: str
    colour: tuple[int, int, int]
    fallback: tuple[str, ...] = ()
    man_made: bool = False
    ja: str = ""


# (name, colour, fallback chain, man_made, Japanese)
_DEFAULTS: tuple[tuple[str, tuple[int, int, int], tuple[str, ...], bool, str], ...] = (
    ("sky", (135, 206, 235), ("cloud",), False, "空"),
    ("cloud", (236, 240, 255), ("sky",), False, "雲"),
    ("mountain_far", (150, 160, 210), ("mountain", "hill"), False, "遠山"),
    ("mountain", (95, 110, 170), ("mountain_far", "hill", "rock"), False, "山"),
    ("hill", (120, 170, 100), ("mountain", "grass", "field"), False, "丘"),
    ("forest", (30, 100, 50), ("tree", "bush", "hill"), False, "森"),
    ("tree", (50, 140, 60), ("forest", "bush"), False, "木"),
    ("bush", (90, 160, 40), ("tree", "forest", "grass"), False, "茂み"),
    ("grass", (160, 210, 80), ("field", "bush", "hill"), False, "草地"),
    ("field", (210, 200, 90), ("grass", "hill"), False, "畑"),
    ("rice_paddy", (170, 220, 160), ("field", "grass", "water"), False, "田んぼ"),
    ("water", (40, 120, 200), ("sea", "river", "sky"), False, "水"),
    ("river", (60, 150, 220), ("water", "sea"), False, "川"),
    ("sea", (20, 80, 170), ("water", "river"), False, "海"),
    ("sand", (235, 215, 160), ("ground", "field"), False, "砂浜"),
    ("ground", (170, 130, 90), ("road", "rock", "field", "grass"), False, "地面"),
    ("road", (128, 128, 128), ("path", "ground", "rock"), True, "道路"),
    ("path", (190, 160, 120), ("ground", "road", "grass"), False, "小道"),
    ("rock", (110, 100, 95), ("cliff", "mountain", "ground"), False, "岩"),
    ("cliff", (140, 90, 70), ("rock", "mountain"), False, "崖"),
    ("snow", (250, 250, 250), ("cloud", "rock"), False, "雪"),
    ("building", (200, 60, 60), ("wall", "roof"), True, "建物"),
    ("roof", (120, 40, 40), ("building",), True, "屋根"),
    ("wall", (230, 180, 150), ("building",), True, "壁"),
    ("window", (80, 200, 220), ("building", "wall"), True, "窓"),
    ("fence", (160, 110, 60), ("building", "wall"), True, "柵"),
    ("pole", (70, 70, 70), ("fence", "building"), True, "電柱"),
    ("bridge", (180, 100, 30), ("road", "building"), True, "橋"),
    ("flower", (240, 120, 180), ("bush", "grass"), False, "花"),
)

DEFAULT_CLASSES: tuple[RegionClass, ...] = tuple(
    RegionClass(i, name, colour, fb, mm, ja) for i, (name, colour, fb, mm, ja) in enumerate(_DEFAULTS)
)


@dataclass(frozen=True)
class Vocabulary:
    """An ordered, immutable set of region classes. Ids are the index in ``classes``."""

    classes: tuple[RegionClass, ...] = DEFAULT_CLASSES
    _by_name: Mapping[str, RegionClass] = field(init=False, repr=False, compare=False)
    _by_colour: Mapping[tuple[int, int, int], RegionClass] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, RegionClass] = {}
        by_colour: dict[tuple[int, int, int], RegionClass] = {}
        for i, c in enumerate(self.classes):
            if c.id != i:
                raise ValueError(f"class {c.name!r} has id {c.id}, expected {i}")
            if c.name in by_name:
                raise ValueError(f"class name {c.name!r} is used twice")
            if c.colour in by_colour or c.colour == UNLABELLED_COLOUR:
                raise ValueError(f"class {c.name!r}: colour {c.colour} is already taken")
            by_name[c.name] = c
            by_colour[c.colour] = c
        if len(self.classes) >= UNLABELLED:
            raise ValueError("a vocabulary holds at most 254 classes")
        for c in self.classes:
            for fb in c.fallback:
                if fb not in by_name:
                    raise ValueError(f"class {c.name!r} falls back to unknown class {fb!r}")
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_colour", by_colour)

    # -- look-ups -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.classes)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> RegionClass:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name))
            raise KeyError(f"unknown region class {name!r}; known classes: {known}") from None

    def id_of(self, name: str) -> int:
        return self.get(name).id

    def name_of(self, class_id: int) -> str:
        if class_id == UNLABELLED:
            return "unlabelled"
        return self.classes[class_id].name

    def by_colour(self, colour: tuple[int, int, int]) -> RegionClass | None:
        return self._by_colour.get(colour)

    def colour_table(self) -> list[tuple[int, int, int]]:
        """256 RGB triples indexed by class id; unused ids and UNLABELLED are black."""
        table = [UNLABELLED_COLOUR] * 256
        for c in self.classes:
            table[c.id] = c.colour
        return table

    def fallback_chain(self, name: str) -> list[str]:
        """The substitutes for ``name``, best first, exactly as listed (not transitive).

        Chains are short on purpose: a road may be painted from ground or rock, but never
        from forest three hops away; past the listed substitutes an engine must refuse.
        """
        return list(self.get(name).fallback)

    def resolve(self, name: str, available: Iterable[str]) -> str | None:
        """The class to paint ``name`` with given the classes the art boards show, or None."""
        avail = set(available)
        if name in avail:
            return name
        for fb in self.fallback_chain(name):
            if fb in avail:
                return fb
        return None

    def as_json(self) -> dict[str, list[int]]:
        return {c.name: list(c.colour) for c in self.classes}

    # -- extension --------------------------------------------------------------------------
    def extended(self, extra: Mapping[str, Mapping[str, object]]) -> Vocabulary:
        """A new vocabulary with studio classes from haikei.toml's ``[classes.NAME]`` tables.

        Each table has ``colour = [r, g, b]`` and optional ``fallback = [...]``, ``man_made``, ``ja``.
        """
        classes = list(self.classes)
        for name, spec in extra.items():
            colour_raw = spec.get("colour")
            if not (isinstance(colour_raw, (list, tuple)) and len(colour_raw) == 3):
                raise ValueError(f"class {name!r}: colour must be [r, g, b]")
            colour = (int(colour_raw[0]), int(colour_raw[1]), int(colour_raw[2]))
            fb_raw = spec.get("fallback", ())
            if not isinstance(fb_raw, (list, tuple)):
                raise ValueError(f"class {name!r}: fallback must be a list of class names")
            classes.append(
                RegionClass(
                    id=len(classes),
                    name=str(name),
                    colour=colour,
                    fallback=tuple(str(f) for f in fb_raw),
                    man_made=bool(spec.get("man_made", False)),
                    ja=str(spec.get("ja", "")),
                )
            )
        return Vocabulary(tuple(classes))
