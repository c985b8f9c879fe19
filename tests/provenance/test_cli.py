from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from haikei.cli.provenance import register
from haikei.imaging.io import save_png
from haikei.provenance.c2pa_sign import ALGORITHMIC_MEDIA, EngineStep, HumanStep, ManifestSpec, sign_png
from haikei.provenance.keys import load_studio_keys
from tests.foundation.cli import sub_app


def app() -> typer.Typer:
    return sub_app(register)


def test_keys_init_then_verify(tmp_path: Path) -> None:
    runner = CliRunner()
    prod = tmp_path / "prod"
    res = runner.invoke(app(), ["keys", "init", "-p", str(prod), "--org", "Studio Kaze"])
    assert res.exit_code == 0, res.output
    assert (prod / "keys" / "root-ca.pem").is_file() and (prod / "keys" / "signer.key").is_file()

    img = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    save_png(tmp_path / "bg.png", img)
    spec = ManifestSpec("c001 BG", (EngineStep("exemplar", "0.3", ALGORITHMIC_MEDIA), HumanStep("Aki Mori")))
    sign_png(tmp_path / "bg.png", tmp_path / "bg.png", spec, load_studio_keys(prod / "keys"))

    res = runner.invoke(app(), ["verify", str(tmp_path / "bg.png"), "-p", str(prod)])
    assert res.exit_code == 0, res.output
    assert "VALID" in res.output and "Aki Mori" in res.output and "compositeSynthetic" in res.output

    res = runner.invoke(
        app(), ["verify", str(tmp_path / "bg.png"), "--json", "--trust", str(prod / "keys" / "root-ca.pem")]
    )
    assert res.exit_code == 0
    report = json.loads(res.output)
    assert report["valid"] is True and report["actions"][1]["agent"].startswith("Aki Mori")

    # no trust anchor known (another folder): signed but not trusted -> its own exit code (issue 14)
    res = runner.invoke(app(), ["verify", str(tmp_path / "bg.png"), "-p", str(tmp_path / "elsewhere")])
    assert res.exit_code == 7 and "signature valid, signer not trusted by this production" in res.output

    save_png(tmp_path / "plain.png", img)
    res = runner.invoke(app(), ["verify", str(tmp_path / "plain.png"), "-p", str(prod)])
    assert res.exit_code == 1 and "no C2PA manifest" in res.output
