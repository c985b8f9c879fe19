from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from haikei.app import create_production, open_production
from haikei.domain.models import FrameSize
from haikei.errors import ConfigError, ProductionError
from tests.foundation.cli import run_cli


def test_init_writes_config_database_and_blobs(tmp_path: Path) -> None:
    ctx = create_production(tmp_path / "show", "Show", FrameSize(1920, 1080), episode="ep01")
    ctx.close()
    root = tmp_path / "show"
    cfg = tomllib.loads((root / "haikei.toml").read_text())
    assert cfg["production"] == {"name": "Show", "width": 1920, "height": 1080, "episode": "ep01"}
    assert (root / "blobs").is_dir() and (root / "haikei.db").is_file()
    ctx = open_production(root)
    with ctx.db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"alembic_version", "cuts", "backgrounds", "versions", "jobs", "artboards", "notes"} <= tables
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None
        statuses = [r[0] for r in conn.execute(text("SELECT short_name FROM review_statuses ORDER BY id"))]
    assert statuses[:1] == ["todo"] and "approved" in statuses and "retake" in statuses
    ctx.close()


def test_init_refuses_existing_production(tmp_path: Path) -> None:
    create_production(tmp_path / "p", "A", FrameSize(64, 40)).close()
    before = (tmp_path / "p" / "haikei.toml").read_bytes()
    with pytest.raises(ProductionError, match="already a production"):
        create_production(tmp_path / "p", "B", FrameSize(64, 40))
    assert (tmp_path / "p" / "haikei.toml").read_bytes() == before


def test_open_non_production_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="haikei init"):
        open_production(tmp_path)


def test_bad_toml_names_file(tmp_path: Path) -> None:
    create_production(tmp_path / "p", "A", FrameSize(64, 40)).close()
    cfg = tmp_path / "p" / "haikei.toml"
    cfg.write_text(cfg.read_text().replace("width = 64", "width = 3"))
    with pytest.raises(ConfigError, match=r"haikei.toml: production.width"):
        open_production(tmp_path / "p")


def test_cli_init_status_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["init", str(tmp_path / "p"), "--name", "Show", "--size", "960x540"], capsys)
    assert code == 0, err
    code, out, _ = run_cli(["status", "-p", str(tmp_path / "p"), "--json"], capsys)
    assert code == 0
    st = json.loads(out)
    assert st["production"]["frame"] == "960x540" and st["counts"]["cuts"] == 0
    code, out, _ = run_cli(["classes", "--json"], capsys)
    classes = json.loads(out)
    assert classes["sky"] == [135, 206, 235] and "road" in classes
    code, out, _ = run_cli(["classes"], capsys)
    assert "mountain_far" in out


def test_cli_errors_are_one_line_with_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["init", str(tmp_path / "p"), "--name", "X", "--size", "big"], capsys)
    assert code == 2 and err.strip().startswith("error: --size") and err.count("\n") == 1
    code, _, err = run_cli(["status", "-p", str(tmp_path / "nothing")], capsys)
    assert code == 2 and "haikei init" in err and err.count("\n") == 1


def test_studio_classes_from_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_production(tmp_path / "p", "A", FrameSize(64, 40)).close()
    cfg = tmp_path / "p" / "haikei.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "[classes]", '[classes.paddy_water]\ncolour = [90, 200, 201]\nfallback = ["water"]'
        )
    )
    code, out, err = run_cli(["classes", "-p", str(tmp_path / "p"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["paddy_water"] == [90, 200, 201]
