from __future__ import annotations

import csv
import io
import json

import pytest

from haikei.errors import InputError
from haikei.provenance.credits import (
    Approval,
    BoardUse,
    CreditsInput,
    EngineUse,
    LayoutWork,
    PaintOverWork,
    build_credits,
    format_credits,
)

SD = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
EX = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"


def data(**over) -> CreditsInput:
    base = dict(
        production="犬と少年",
        layouts=[
            LayoutWork("c010", "田中 一郎"),
            LayoutWork("c2", "田中 一郎"),
            LayoutWork("c3", "Aki Mori"),
        ],
        boards=[
            BoardUse("autumn river", "木村 さくら", "c2", "staff work"),
            BoardUse("autumn river", "木村 さくら", "c010", "staff work"),
            BoardUse("dusk town", "木村 さくら", "c3"),
            BoardUse("snow field", "Jun Ito", "c3", "CC-BY 4.0"),
        ],
        paint_overs=[
            PaintOverWork("c2", "佐藤 花子", 100, 1000),
            PaintOverWork("c010", "佐藤 花子", 300, 1000),
            PaintOverWork("c010", "佐藤 花子", 50, 1000),
            PaintOverWork("c3", "Ken", 1000, 1000),
        ],
        approvals=[Approval("c2", "山田 太郎"), Approval("c010", "山田 太郎"), Approval("c3", "山田 太郎")],
        engines=[
            EngineUse("c2", "sd", "0.2", SD),
            EngineUse("c010", "exemplar", "0.3", EX),
            EngineUse("c3", "sd", "0.2", SD),
        ],
    )
    base.update(over)
    return CreditsInput(**base)


def test_credits_group_people_by_role_with_their_cuts() -> None:
    c = build_credits(data())
    roles = {r.role: r for r in c.roles}
    assert [r.role for r in c.roles] == ["art_director", "layout", "art_board", "paint_over"]
    assert roles["art_director"].people[0].name == "山田 太郎"
    assert roles["art_director"].people[0].cuts == ("c2", "c3", "c010")  # natural cut order
    assert [(p.name, p.cuts) for p in roles["layout"].people] == [
        ("田中 一郎", ("c2", "c010")),
        ("Aki Mori", ("c3",)),
    ]
    kimura = next(p for p in roles["art_board"].people if p.name == "木村 さくら")
    assert kimura.boards == ("autumn river", "dusk town")
    assert kimura.cuts == ("c2", "c3", "c010")
    assert "autumn river (c2, c010; licence: staff work)" in kimura.detail
    sato = next(p for p in roles["paint_over"].people if p.name == "佐藤 花子")
    assert sato.per_cut == (("c2", 0.1), ("c010", 0.35))
    assert sato.share == pytest.approx(450 / 2000)
    assert [(e.engine, e.version, e.cuts) for e in c.engines] == [
        ("exemplar", "0.3", ("c010",)),
        ("sd", "0.2", ("c2", "c3")),
    ]


def test_roles_without_people_are_left_out() -> None:
    c = build_credits(data(paint_overs=[], approvals=[]))
    assert [r.role for r in c.roles] == ["layout", "art_board"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"layouts": [LayoutWork("c1", " ")]}, "layout artist is empty"),
        ({"boards": [BoardUse("b", "", "c1")]}, "art-board painter is empty"),
        ({"approvals": [Approval("", "Yamada")]}, "cut is empty"),
        ({"paint_overs": [PaintOverWork("c1", "A", 11, 10)]}, "changed_pixels=11"),
        (
            {"paint_overs": [PaintOverWork("c1", "A", 1, 10), PaintOverWork("c1", "B", 1, 20)]},
            "pixels in paint-over",
        ),
        ({"production": ""}, "production"),
    ],
)
def test_credits_refuse_unnamed_or_impossible_rows(over: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_credits(data(**over))


def test_formats() -> None:
    c = build_credits(data())
    text = format_credits(c, "text")
    assert text.startswith("犬と少年")
    assert "佐藤 花子: c2, c010 — c2 10.0%, c010 35.0% (overall 22.5% of pixels)" in text
    assert "Engines (software, not people)" in text and "sd 0.2 [trainedAlgorithmicMedia]: c2, c3" in text

    rows = list(csv.DictReader(io.StringIO(format_credits(c, "csv"))))
    assert {r["role"] for r in rows} == {"art_director", "layout", "art_board", "paint_over", "engine"}
    sato = next(r for r in rows if r["name"] == "佐藤 花子")
    assert sato["cuts"] == "c2 c010" and float(sato["share"]) == pytest.approx(0.225)

    j = json.loads(format_credits(c, "json"))
    assert j["production"] == "犬と少年"
    assert j["roles"][1]["people"][0]["name"] == "田中 一郎"
    with pytest.raises(InputError, match="not one of"):
        format_credits(c, "xml")
