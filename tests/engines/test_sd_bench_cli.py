"""`haikei bench --engine sd`: the GPU throughput benchmark's command. No GPU here, so a toy-sized
CPU smoke run proves the command path; on a GPU the same command times full-size models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tests.foundation.cli import run_cli


@pytest.mark.slow
def test_bench_sd_cpu_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sd.json"
    code, _, err = run_cli(
        [
            "bench",
            "--engine",
            "sd",
            "--device",
            "cpu",
            "--tiny",
            "--sizes",
            "64x48",
            "--steps",
            "2",
            "--repeat",
            "1",
            "--families",
            "sd15",
            "--json",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    (row,) = json.loads(out.read_text())["sd15"]["results"]
    assert (
        row["ours_s_per_image"] > 0 and row["diffusers_s_per_image"] > 0 and row["ours_images_per_hour"] > 0
    )


def test_bench_sd_without_gpu_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    code, _, err = run_cli(["bench", "--engine", "sd"], capsys)
    assert code == 2 and "none is visible" in err
