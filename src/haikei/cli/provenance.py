"""CLI: ``haikei verify FILE`` and ``haikei keys init``.

``verify`` prints who and what made a delivered picture. Exit codes: 0 valid and signed by a chain
this production trusts; 7 the signature and the pixels check out but the signer is not trusted here
(another studio's key, or no trust anchor); 1 invalid or no Content Credentials. Errors are
HaikeiErrors; the root CLI turns them into one line and an exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_INVALID", "EXIT_UNTRUSTED", "register"]

EXIT_INVALID = 1
EXIT_UNTRUSTED = 7  # outside haikei's error codes (1-6): a script can tell it from every failure

KEYS_DIR = "keys"
ProductionOpt = Annotated[
    Path, typer.Option("-p", "--production", help="production folder (default: the current directory)")
]


def verify_command(
    file: Annotated[Path, typer.Argument(help="a delivered PNG, or a PSD with its .c2pa sidecar next to it")],
    json_out: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    trust: Annotated[
        Path | None,
        typer.Option(help="PEM root certificate(s) to trust; default: the production's keys/root-ca.pem"),
    ] = None,
    sidecar: Annotated[Path | None, typer.Option(help="detached manifest (default: FILE with .c2pa)")] = None,
    production: ProductionOpt = Path("."),
) -> None:
    """Check a file's signed provenance and show the chain of who / what made it.

    Exit code 0: valid, signed by a chain this production trusts. 7: signature valid, signer not
    trusted by this production (signed by someone else's key, or no trust anchor known: pass --trust).
    1: invalid (pixels or manifest changed, broken signature) or no Content Credentials."""
    from haikei.errors import ConfigError
    from haikei.provenance.c2pa_sign import report_json, verify
    from haikei.provenance.keys import ROOT_CERT_FILE

    anchors: bytes | None = None
    if trust is not None:
        if not trust.is_file():
            raise ConfigError(f"{trust}: trust anchor file not found")
        anchors = trust.read_bytes()
    elif (production / KEYS_DIR / ROOT_CERT_FILE).is_file():
        anchors = (production / KEYS_DIR / ROOT_CERT_FILE).read_bytes()
    report = verify(file, trust_anchors=anchors, sidecar=sidecar)
    typer.echo(report_json(report) if json_out else report.format_text())
    codes = {"trusted": 0, "untrusted": EXIT_UNTRUSTED}
    raise typer.Exit(code=codes.get(report.verdict, EXIT_INVALID))


def keys_init_command(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="where to write the keys (default: the production's keys/)")
    ] = None,
    org: Annotated[str, typer.Option(help="studio name written into the certificates")] = "haikei studio",
    force: Annotated[bool, typer.Option(help="replace existing keys")] = False,
    production: ProductionOpt = Path("."),
) -> None:
    """Make a studio test signing chain (root CA + ES256 signing certificate)."""
    from haikei.provenance.keys import init_keys

    files = init_keys(directory if directory is not None else production / KEYS_DIR, org, force=force)
    typer.echo(f"root CA (give to verifiers): {files.root_cert}")
    typer.echo(f"signing chain:               {files.signing_chain}")
    typer.echo(f"private keys (mode 0600):    {files.signing_key}, {files.root_key}")


def register(app: typer.Typer) -> None:
    """Add ``verify`` and the ``keys`` group to the root app."""
    app.command("verify")(verify_command)
    keys = typer.Typer(help="signing keys for C2PA provenance", no_args_is_help=True)
    keys.command("init")(keys_init_command)
    app.add_typer(keys, name="keys")
