"""After a kill between writing a Kitsu comment's effect and marking it done, the next pass must see
that the effect exists — also for a comment haikei "kept" (written as a comment, not a note), or the
next pass writes it a second time. Runs on the production alone: no Kitsu server is needed to ask
haikei's own tables what it already wrote."""

from __future__ import annotations

from datetime import timedelta

from haikei.kitsu.sync import _effect_exists
from haikei.services.comments import add_comment
from haikei.services.intake import import_folder
from haikei.services.users import add_user, get_user
from haikei.store.tables import BackgroundRow, KitsuCommentRow, utcnow


def _row(ctx, action: str, author: str, text: str) -> KitsuCommentRow:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        bg = s.query(BackgroundRow).first()
        return KitsuCommentRow(
            kitsu_id="k1",
            task_id="t1",
            background_id=bg.id,
            action=action,
            author=author,
            text=text,
            created_at=utcnow() - timedelta(seconds=5),
        )


def test_a_kept_comment_written_before_a_kill_is_not_written_again(production, layouts_dir) -> None:
    ctx = production
    import_folder(ctx, layouts_dir, artist="Kenji Mori")
    add_user(ctx, "kitsu-bot", "artist", password="bot-pass-12345", display_name="Kitsu")
    bot = get_user(ctx, "kitsu-bot")
    text = "warmer sky please (from Kitsu; could not be applied in haikei: no version)"
    kept = _row(ctx, "kept", "kitsu-bot", text)
    assert not _effect_exists(ctx, kept)  # nothing written yet
    add_comment(ctx, bot, "c001", text)
    assert _effect_exists(ctx, kept)
    assert _effect_exists(ctx, _row(ctx, "comment", "kitsu-bot", text))
