"""A shot's cast Background asset in Kitsu puts its BG at that location (issue 18), unless a
person placed the BG in haikei: the cut sheet's rule (services/locations.py)."""

from __future__ import annotations

from typing import Any

from haikei.services.locations import set_location
from haikei.store.tables import LocationRow, NoteRow
from tests.kitsu.conftest import KitsuProd, set_kitsu
from tests.kitsu.test_review_loop import bg, sync


def _location(ctx: Any, name: str) -> str | None:
    b = bg(ctx, name)
    with ctx.db.session() as s:
        loc = s.get(LocationRow, b.location_id) if b.location_id else None
        return loc.name if loc else None


def _cast(admin: Any, project: dict[str, Any], shot: str, assets: list[dict[str, Any]]) -> None:
    """What the Kitsu web app's breakdown page sends: the shot's whole cast."""
    import gazu

    sh = admin.fetch_first("entities", {"project_id": project["id"], "name": shot})
    admin._call(
        lambda: gazu.casting.update_shot_casting(
            project,
            sh,
            [{"asset_id": a["id"], "nb_occurences": 1} for a in assets],  # type: ignore[arg-type]
            client=admin.client,
        ),
        "casting",
    )


def test_cast_background_asset_sets_the_location(reviewed_in_kitsu: KitsuProd, capsys: Any) -> None:
    import gazu

    kp = reviewed_in_kitsu
    ctx, admin, project = kp.ctx, kp.admin, kp.project

    def asset_type(name: str) -> dict[str, Any]:
        return admin._call(lambda: gazu.asset.new_asset_type(name, client=admin.client), "asset type")  # type: ignore[no-any-return]

    def asset(type_name: str, name: str) -> dict[str, Any]:
        t = asset_type(type_name)
        return admin._call(  # type: ignore[no-any-return]
            lambda: gazu.asset.new_asset(project, t, name, client=admin.client), "asset"
        )

    riverside, station = asset("Background", "Riverside"), asset("Background", "Station")
    hero = asset("Character", "Hero")
    _cast(admin, project, "c001", [riverside, hero])
    _cast(admin, project, "c003", [station])
    _cast(admin, project, "c004", [station, hero])
    _cast(admin, project, "c002", [station])
    # a person already put c002 at the harbour in haikei: Kitsu's cast does not move it
    set_location(ctx, "c002", "Harbour", actor="dana")

    rep = sync(kp, capsys)
    assert sorted((x["bg"], x["location"]) for x in rep["pull"]["located"]) == [
        ("c001", "Riverside"),
        ("c003-c004", "Station"),
    ]
    assert (_location(ctx, "c001"), _location(ctx, "c002"), _location(ctx, "c003-c004")) == (
        "Riverside",
        "Harbour",
        "Station",
    )
    kept = [r for r in rep["pull"]["skipped"] if r["shot"] == "c002"]
    assert len(kept) == 1 and "placed at Harbour in haikei" in kept[0]["reason"]
    with ctx.db.session() as s:
        note = s.query(NoteRow).filter(NoteRow.background_id == bg(ctx, "c001").id).all()[-1]
        assert (note.author, note.text) == ("kitsu", "location Riverside")

    # a second pass changes nothing
    rep = sync(kp, capsys)
    assert rep["pull"]["located"] == []

    # recast in Kitsu: a BG where Kitsu put it follows the cast
    _cast(admin, project, "c001", [station, hero])
    rep = sync(kp, capsys)
    assert rep["pull"]["located"] == [{"bg": "c001", "location": "Station"}]
    assert _location(ctx, "c001") == "Station"

    # a person moves it in haikei: Kitsu's next recast no longer moves it
    set_location(ctx, "c001", "Bridge", actor="aki")
    _cast(admin, project, "c001", [riverside])
    rep = sync(kp, capsys)
    assert rep["pull"]["located"] == [] and _location(ctx, "c001") == "Bridge"
    assert any(r["shot"] == "c001" and "placed at Bridge" in r["reason"] for r in rep["pull"]["skipped"])

    # a shared BG whose shots are cast with different places: not guessed
    _cast(admin, project, "c004", [riverside])
    rep = sync(kp, capsys)
    assert rep["pull"]["located"] == [] and _location(ctx, "c003-c004") == "Station"
    assert any(
        r["shot"] == "c003-c004" and "different Background assets" in r["reason"]
        for r in rep["pull"]["skipped"]
    )

    # the asset type is [kitsu] location_asset_type: a studio that calls them "Set"
    old_town = asset("Set", "Old Town")
    _cast(admin, project, "c003", [station, old_town])
    _cast(admin, project, "c004", [old_town])
    set_kitsu(kp.root, location_asset_type="Set")
    ctx = kp.reopen()
    rep = sync(kp, capsys)
    assert rep["pull"]["located"] == [{"bg": "c003-c004", "location": "Old Town"}]
    assert _location(ctx, "c003-c004") == "Old Town"
