"""`haikei export` against an unlucky or hostile destination (issue 14, items 12-14), through the real
command: in-process for the refusals, a real subprocess killed with SIGKILL for the crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haikei.provenance.keys import init_keys
from haikei.services.delivery import STAGING_PREFIX
from haikei.services.intake import import_folder
from haikei.services.rendering import render_backgrounds
from tests.conftest import snapshot
from tests.foundation.cli import run_cli

HAIKEI = str(Path(sys.executable).with_name("haikei"))


@pytest.fixture
def rendered(production, layouts_dir: Path):
    import_folder(production, layouts_dir, artist="Kenji Mori")
    render_backgrounds(production, None, engine="baseline", candidates=1, actor="aki")
    init_keys(production.root / "keys", org="Test Studio")
    return production


def _tree(p: Path) -> dict[str, tuple[str, bytes]]:
    """Every entry under p (folders too), with file bytes: compare before/after."""
    if not p.exists():
        return {}
    return {
        str(f.relative_to(p)): ("dir", b"") if f.is_dir() else ("file", f.read_bytes())
        for f in sorted(p.rglob("*"))
    }


def _export(prod: Path, dest: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return run_cli(["export", "-p", str(prod), "--to", str(dest), *extra], capsys)


def test_read_only_folder_is_one_line_and_nothing_written(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 12. As root, permission bits do not stop writes, so the folder is made read-only for real:
    a read-only tmpfs in a private mount namespace (unshare), around the real `haikei` command."""
    dest = tmp_path / "readonly"
    dest.mkdir()
    before = snapshot(rendered)
    if os.geteuid() != 0:
        dest.chmod(0o555)
        try:
            code, _out, err = _export(rendered.root, dest, capsys)
        finally:
            dest.chmod(0o755)
        assert code == 2 and err.count("\n") == 1 and str(dest) in err and "read-only" in err, err
    else:
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
        if probe.returncode != 0:
            pytest.skip("root without mount namespaces: no way to make a read-only folder here")
        script = (
            f"mount -t tmpfs -o ro,size=1m tmpfs {dest} && "
            f"{HAIKEI} export -p {rendered.root} --to {dest}; echo rc=$?; ls -A {dest} | wc -l"
        )
        res = subprocess.run(
            ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120
        )
        err = res.stderr
        assert "rc=2" in res.stdout and res.stdout.strip().endswith("0"), res.stdout + err
        assert err.count("\n") == 1 and f"error: {dest}: the folder is read-only" in err, err
        assert "nothing was written" in err and "Traceback" not in err
    assert list(dest.iterdir()) == []
    assert snapshot(rendered) == before


def test_a_folder_where_a_delivery_file_goes(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 13: the whole destination is checked before anything is written."""
    dest = tmp_path / "delivery"
    (dest / "ep01_c002_bg_v001.psd").mkdir(parents=True)  # named like a delivery file
    (dest / "ep01_c002_bg_v001.psd" / "notes.txt").write_text("someone's notes")
    before = _tree(dest)
    code, _out, err = _export(rendered.root, dest, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "ep01_c002_bg_v001.psd is a folder" in err and "nothing was written" in err
    assert _tree(dest) == before  # not one file delivered, no staging folder left


def test_earlier_delivery_refused_then_replaced_with_force(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 13: refuse to overwrite an earlier delivery; --force replaces file by file and says which."""
    dest = tmp_path / "delivery"
    code, out, err = _export(rendered.root, dest, capsys)
    assert code == 0, err
    first = _tree(dest)
    assert "ep01_c001_bg_v001.png" in first and "replaced" not in out
    code, _out, err = _export(rendered.root, dest, capsys, "--cuts", "c001")
    assert code == 2 and err.count("\n") == 1, err
    assert "4 files of this delivery are already there (ep01_c001_bg_v001.c2pa, ep01_c001_bg_v001.png" in err
    assert "--force" in err and _tree(dest) == first
    code, out, err = _export(rendered.root, dest, capsys, "--cuts", "c001", "--force")
    assert code == 0, err
    assert (
        "replaced 6 earlier file(s): ep01_c001_bg_v001.png, ep01_c001_bg_v001.psd, "
        "ep01_c001_bg_v001.recipe.json, ep01_c001_bg_v001.c2pa, cuts.csv, delivery.json" in out
    )
    after = _tree(dest)
    assert set(after) == set(first)  # same names, nothing half-written, no staging folder
    assert after["ep01_c002_bg_v001.png"] == first["ep01_c002_bg_v001.png"]  # not part of this export
    assert not any(name.startswith(STAGING_PREFIX) for name in os.listdir(dest))


def _kill_while_staging(prod: Path, dest: Path, extra: list[str]) -> bool:
    """Start `haikei export` and SIGKILL it as soon as its staging folder exists. True if it was caught."""
    proc = subprocess.Popen(
        [HAIKEI, "export", "-p", str(prod), "--to", str(dest), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if dest.is_dir() and any(n.startswith(STAGING_PREFIX) for n in os.listdir(dest)):
                time.sleep(0.05)  # let it write a file or two into the staging folder
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return proc.returncode == -signal.SIGKILL
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return False


def _staging(dest: Path) -> list[str]:
    return sorted(n for n in os.listdir(dest) if n.startswith(STAGING_PREFIX))


def test_kill_9_during_export_then_gc_and_rerun_clean_up(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 14: a real `kill -9` of a real export leaves its hidden staging folder; `haikei gc` removes it,
    and so does the next export to the same folder; a live export's staging folder is never touched."""
    dest = tmp_path / "delivery"
    for _attempt in range(5):
        if _kill_while_staging(rendered.root, dest, ["--force"]):
            break
    else:
        pytest.fail("the export always finished before it could be killed")
    left = _staging(dest)
    assert len(left) == 1, left
    code, out, err = run_cli(["gc", "-p", str(rendered.root)], capsys)
    assert code == 0, err
    assert "1 staging folder(s) of killed exports removed" in out
    assert _staging(dest) == []

    for _attempt in range(5):
        if _kill_while_staging(rendered.root, dest, ["--force"]):
            break
    assert len(_staging(dest)) == 1
    code, _out, err = _export(rendered.root, dest, capsys, "--force")  # the rerun
    assert code == 0, err
    assert _staging(dest) == []


def test_a_live_exports_staging_folder_is_left_alone(rendered, tmp_path: Path) -> None:
    """The lock that tells dead from live: a staging folder whose lock is held survives gc's cleaning."""
    import fcntl

    from haikei.services.delivery import LOCK_NAME, clean_stale_staging

    dest = tmp_path / "delivery"
    live = dest / f"{STAGING_PREFIX}live"
    live.mkdir(parents=True)
    fd = os.open(live / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    dead = dest / f"{STAGING_PREFIX}dead"
    dead.mkdir()
    (dead / LOCK_NAME).write_bytes(b"")
    (dead / "ep01_c001_bg_v001.png").write_bytes(b"half")
    young_unlocked = dest / f"{STAGING_PREFIX}young"
    young_unlocked.mkdir()
    try:
        assert clean_stale_staging(dest) == [dead]
        assert live.is_dir() and young_unlocked.is_dir() and not dead.exists()
    finally:
        os.close(fd)


def test_a_full_disk_mid_export_leaves_nothing_half_written(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A neighbour of item 12: the disk fills up while the delivery is being built (a 48 KiB tmpfs in a
    private mount namespace). One line naming the file, nothing delivered, no staging folder left."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("needs root and mount namespaces for a small file system")
    dest = tmp_path / "small"
    dest.mkdir()
    script = (
        f"mount -t tmpfs -o size=48k tmpfs {dest} && "
        f"{HAIKEI} export -p {rendered.root} --to {dest}; echo rc=$?; ls -A {dest}"
    )
    res = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    out, err = res.stdout.splitlines(), res.stderr
    assert out[0] == "rc=2", res.stdout + err
    assert out[1:] == []  # nothing delivered, no hidden staging folder
    assert err.count("\n") == 1 and "No space left on device" in err and "nothing was delivered" in err, err


def test_delivering_bgs_one_by_one_keeps_the_folder_index_whole(
    rendered, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A neighbour of item 13: cuts.csv and delivery.json describe the folder. Delivering c002 after c001
    used to leave a cuts.csv that forgot c001 (its files still there); now both stay listed."""
    import csv

    dest = tmp_path / "delivery"
    assert _export(rendered.root, dest, capsys, "--cuts", "c001")[0] == 0
    code, out, err = _export(rendered.root, dest, capsys, "--cuts", "c003")
    assert code == 0, err
    assert "replaced 2 earlier file(s): cuts.csv, delivery.json" in out
    rows = list(csv.DictReader((dest / "cuts.csv").open(encoding="utf-8")))
    assert [(r["cut"], r["png"]) for r in rows] == [
        ("c001", "ep01_c001_bg_v001.png"),
        ("c003", "ep01_c003-c004_bg_v001.png"),
        ("c004", "ep01_c003-c004_bg_v001.png"),
    ]
    # a file that is gone is no longer listed
    (dest / "ep01_c001_bg_v001.png").unlink()
    assert _export(rendered.root, dest, capsys, "--cuts", "c002")[0] == 0
    rows = list(csv.DictReader((dest / "cuts.csv").open(encoding="utf-8")))
    assert [r["cut"] for r in rows] == ["c002", "c003", "c004"]
