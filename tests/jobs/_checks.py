"""What 'nothing lost, nothing doubled' means, checked against a production after a crash."""

from __future__ import annotations

import hashlib
import io
from collections import Counter

from PIL import Image
from sqlalchemy import select

from haikei.jobs.gc import referenced_blobs
from haikei.services.context import ServiceContext
from haikei.store.tables import BackgroundRow, JobRow, VersionRow


def check_batch(ctx: ServiceContext, expected_per_bg: int, size: tuple[int, int]) -> dict[str, int]:
    """Every BG has exactly ``expected_per_bg`` versions with distinct render keys, one done job
    per version, every version's PNG whole; after gc the blob folder holds exactly what the
    database references and no temp file. Returns a few counts for the report."""
    with ctx.db.session() as s:
        bgs = dict(s.execute(select(BackgroundRow.id, BackgroundRow.name)).all())
        versions = s.scalars(select(VersionRow)).all()
        jobs = s.scalars(select(JobRow)).all()
        per_bg = Counter(v.background_id for v in versions)
        assert {bgs[b]: per_bg.get(b, 0) for b in bgs} == {n: expected_per_bg for n in bgs.values()}
        keys = [(v.background_id, v.render_key) for v in versions]
        assert len(set(keys)) == len(keys), "two versions of one render"
        assert all(j.state == "done" for j in jobs), [
            (j.id, j.state, j.error) for j in jobs if j.state != "done"
        ]
        results = [vid for j in jobs for vid in (j.result_version_ids or [])]
        assert sorted(results) == sorted(v.id for v in versions), "a job without its version or the reverse"
        for v in versions:
            data = ctx.blobs.get(v.image_blob)
            assert hashlib.sha256(data).hexdigest() == v.image_blob, (
                "a blob whose bytes do not match its name"
            )
            with Image.open(io.BytesIO(data)) as im:
                im.load()  # a truncated PNG raises here
                assert im.size == size
        revs = Counter((v.background_id, v.revision) for v in versions)
        assert max(revs.values()) == 1
    stored = set(ctx.blobs.keys())
    refs = referenced_blobs(ctx)
    assert refs <= stored, "the database points at a missing blob"
    assert stored == refs, f"{len(stored - refs)} orphan blob(s) left after gc"
    assert list(ctx.blobs.temp_files()) == [], "half-written temp files left"
    return {
        "bgs": len(bgs),
        "versions": len(versions),
        "jobs": len(jobs),
        "attempts": sum(j.attempts for j in jobs),
    }
