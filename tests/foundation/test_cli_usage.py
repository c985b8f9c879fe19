"""Every usage error of every ``haikei`` command: one line on stderr, exit code 2, never a traceback.

The list of commands is read from the Typer app itself, so a command added tomorrow is swept too.
Each bad invocation fails while the command line is parsed: the command never runs, and the test
checks that nothing was written in the current folder.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from haikei.cli.main import EXIT_INTERNAL, build_app
from tests.foundation.cli import run_cli


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if path:
        yield path, cmd
    for name, sub in (subs or {}).items():
        yield from _walk(sub, (*path, name))


def _is_argument(p: Any) -> bool:
    return not getattr(p, "opts", [""])[0].startswith("-")


def _is_number(p: Any) -> bool:
    """An int or float parameter (typer >= 0.2x describes it with type_descriptor, older ones with click)."""
    td = getattr(p, "type_descriptor", None)
    if td is not None:
        ann = td.annotation
        kinds = set(typing.get_args(ann)) - {type(None)} if typing.get_args(ann) else {ann}
        return bool(kinds) and kinds <= {int, float}
    return getattr(getattr(p, "type", None), "name", "") in ("integer", "float")


def _bad_invocations() -> list[Any]:
    """(argv, a word the error line must contain) for every command and group of the app."""
    cases: list[Any] = []
    root = typer.main.get_command(build_app())
    for path, cmd in _walk(root):
        name = " ".join(path)
        if getattr(cmd, "commands", None):  # a group: an unknown subcommand
            cases.append(
                pytest.param([*path, "no-such-subcommand"], "no-such-subcommand", id=f"{name}-unknown")
            )
            cases.append(pytest.param([*path, "--no-such-option"], "--no-such-option", id=f"{name}-option"))
            continue
        params = [p for p in cmd.params if p.expose_value]
        cases.append(pytest.param([*path, "--no-such-option"], "--no-such-option", id=f"{name}-option"))
        if any(p.required for p in params):
            cases.append(pytest.param(list(path), "missing", id=f"{name}-missing"))
        for p in params:
            if _is_number(p) and not _is_argument(p):
                cases.append(
                    pytest.param([*path, p.opts[0], "not-a-number"], p.opts[0], id=f"{name}-{p.name}")
                )
        if not any(_is_argument(p) and p.nargs == -1 for p in params):
            filled: list[str] = []
            for p in params:
                if _is_argument(p):
                    filled.append("1" if _is_number(p) else "c001")
                elif p.required:
                    filled += (
                        [p.opts[0]]
                        if getattr(p, "is_flag", False)
                        else [p.opts[0], "1" if _is_number(p) else "x"]
                    )
            cases.append(
                pytest.param([*path, *filled, "surplus-argument"], "surplus-argument", id=f"{name}-extra")
            )
    return cases


CASES = _bad_invocations()


def test_the_sweep_covers_every_command() -> None:
    ids = {c.id for c in CASES}
    root = typer.main.get_command(build_app())
    commands = [" ".join(p) for p, c in _walk(root) if not getattr(c, "commands", None)]
    assert len(commands) >= 25  # the app really was read (28 commands when this was written)
    assert all(f"{c}-option" in ids for c in commands)
    assert "render-extra" in ids and "import-missing" in ids and "export-missing" in ids


@pytest.mark.parametrize(("argv", "word"), CASES)
def test_usage_error_is_one_line_and_exit_2(
    argv: list[str],
    word: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HAIKEI_DEBUG", raising=False)
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (argv, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: haikei"), err
    assert word.lower() in lines[0].lower(), err
    assert "--help" in lines[0] and "Traceback" not in out + err
    assert out == ""
    assert list(tmp_path.iterdir()) == []  # the command never ran: nothing was written


def test_issue_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The two invocations of the hostile-input review, word for word."""
    assert run_cli(["init", str(tmp_path / "prod"), "--name", "P", "--size", "320x180"], capsys)[0] == 0
    code, _, err = run_cli(["render", "-p", str(tmp_path / "prod"), "c113"], capsys)
    assert code == 2 and err.strip() == (
        "error: haikei render: Got unexpected extra argument(s) (c113); see 'haikei render --help'"
    )
    code, _, err = run_cli(["import", "-p", str(tmp_path / "prod")], capsys)
    assert code == 2 and err.count("\n") == 1 and "Missing argument 'folder'" in err


def test_bare_command_and_group_show_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([], capsys)
    assert code == 2 and "Usage: haikei" in out and out.count("Usage:") == 1 and err == ""
    code, out, err = run_cli(["keys"], capsys)
    assert code == 2 and "Usage: haikei keys" in out and out.count("Usage:") == 1


def test_unforeseen_error_is_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database file that is not a database: one line naming the database, HAIKEI_DEBUG=1 re-raises."""
    prod = tmp_path / "prod"
    assert run_cli(["init", str(prod), "--name", "P", "--size", "320x180"], capsys)[0] == 0
    (prod / "haikei.db").write_bytes(b"not a database at all, just bytes" * 100)
    monkeypatch.delenv("HAIKEI_DEBUG", raising=False)
    code, _out, err = run_cli(["status", "-p", str(prod)], capsys)
    assert code == 1, err
    assert err.count("\n") == 1 and "database" in err and "HAIKEI_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("HAIKEI_DEBUG", "1")
    with pytest.raises(Exception, match="not a database"):
        run_cli(["status", "-p", str(prod)], capsys)


def test_a_bug_says_it_is_one_with_its_own_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last-resort handler: an exception nobody foresaw (simulated: the command 'classes' is made to
    fail with a ZeroDivisionError, since a real bug cannot be planted in the shipped code on purpose)."""
    import haikei.cli.production as production_cli

    def broken(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("HAIKEI_DEBUG", raising=False)
    monkeypatch.setattr(production_cli, "print_json", broken)
    code, _out, err = run_cli(["classes", "--json"], capsys)
    assert code == EXIT_INTERNAL
    assert err.count("\n") == 1 and "internal error (ZeroDivisionError" in err and "HAIKEI_DEBUG=1" in err


def test_a_question_without_a_terminal_is_a_usage_error(tmp_path: Path) -> None:
    """`haikei user add NAME --role director` asks for the password; from a script (stdin not a terminal,
    here /dev/null) that used to end as a bare 'aborted' with the code of Ctrl-C."""
    import subprocess
    import sys

    haikei = str(Path(sys.executable).with_name("haikei"))
    assert (
        subprocess.run([haikei, "init", str(tmp_path / "p"), "--name", "P"], capture_output=True).returncode
        == 0
    )
    res = subprocess.run(
        [haikei, "user", "add", "aki", "--role", "director", "-p", str(tmp_path / "p")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "aborted: the command asked a question and there is no terminal" in last and "--help" in last
    assert "Traceback" not in res.stderr
