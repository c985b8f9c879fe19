from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509

from haikei.errors import ConfigError
from haikei.provenance.keys import (
    OID_DOCUMENT_SIGNING,
    check_signing_chain,
    init_keys,
    load_credentials,
    load_studio_keys,
)
from tests.provenance.certs import EMAIL, key_pem, make_cert, new_key, pem


def test_keys_init_writes_a_chain_c2pa_accepts(tmp_path: Path) -> None:
    files = init_keys(tmp_path / "keys", "Studio Kaze")
    for p in (files.root_key, files.signing_key):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    for p in (files.root_cert, files.signing_chain):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    creds = load_studio_keys(tmp_path / "keys")
    assert creds.alg == "es256"
    assert "Studio Kaze haikei signing" in creds.subject
    assert "root CA" in creds.issuer
    certs = x509.load_pem_x509_certificates(files.signing_chain.read_bytes())
    assert len(certs) == 2 and certs[1] == x509.load_pem_x509_certificate(files.root_cert.read_bytes())
    eku = {o.dotted_string for o in certs[0].extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    assert OID_DOCUMENT_SIGNING in eku


def test_keys_init_does_not_overwrite_without_force(tmp_path: Path) -> None:
    first = init_keys(tmp_path, "A")
    before = first.signing_key.read_bytes()
    with pytest.raises(ConfigError, match="--force"):
        init_keys(tmp_path, "A")
    assert first.signing_key.read_bytes() == before
    init_keys(tmp_path, "A", force=True)
    assert first.signing_key.read_bytes() != before
    with pytest.raises(ConfigError, match="organisation"):
        init_keys(tmp_path / "x", "  ")


def test_a_single_self_signed_certificate_is_refused_clearly() -> None:
    k = new_key()
    cert = make_cert("lonely", k, eku=EMAIL)
    with pytest.raises(ConfigError, match=r"self-signed.*haikei keys init"):
        check_signing_chain(pem(cert), key_pem(k))


def test_a_chain_without_its_issuer_is_refused() -> None:
    rk, lk = new_key(), new_key()
    leaf = make_cert("leaf", lk, ("root", rk), eku=EMAIL)
    with pytest.raises(ConfigError, match="only the signing certificate"):
        check_signing_chain(pem(leaf), key_pem(lk))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eku": None}, "no Extended Key Usage"),
        ({"eku": [x509.ObjectIdentifier("2.5.29.37.0")]}, "anyExtendedKeyUsage"),
        ({"eku": [x509.ObjectIdentifier("1.3.6.1.5.5.7.3.1")]}, "none of the extended key usages"),
        ({"eku": EMAIL, "key_usage": False}, "no Key Usage"),
        ({"eku": EMAIL, "ca": True}, "CA certificate"),
        ({"eku": EMAIL, "aki": False}, "Authority Key Identifier"),
    ],
)
def test_signing_certificates_c2pa_would_refuse(kwargs: dict, message: str) -> None:
    rk, lk = new_key(), new_key()
    root = make_cert("root", rk, ca=True)
    leaf = make_cert("leaf", lk, ("root", rk), **kwargs)
    with pytest.raises(ConfigError, match=message):
        check_signing_chain(pem(leaf, root), key_pem(lk))


def test_wrong_key_and_wrong_order_are_refused() -> None:
    rk, lk = new_key(), new_key()
    root = make_cert("root", rk, ca=True)
    leaf = make_cert("leaf", lk, ("root", rk), eku=EMAIL)
    assert check_signing_chain(pem(leaf, root), key_pem(lk)).alg == "es256"
    with pytest.raises(ConfigError, match="does not belong"):
        check_signing_chain(pem(leaf, root), key_pem(new_key()))
    other_root = make_cert("root", new_key(), ca=True)  # same name, other key: not the issuer
    with pytest.raises(ConfigError, match="not issued by"):
        check_signing_chain(pem(leaf, other_root), key_pem(lk))
    with pytest.raises(ConfigError, match="not a PEM"):
        check_signing_chain(b"hello", key_pem(lk))


def test_load_credentials_names_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="keys init"):
        load_credentials(tmp_path / "chain.pem", tmp_path / "signer.key")
