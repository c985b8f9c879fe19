"""Signing keys for C2PA: a studio test chain, loading a real chain, and the checks C2PA makes.

C2PA refuses a single self-signed certificate. A signing certificate must be an X.509 v3 end-entity
certificate (not a CA) issued by a CA, with Key Usage ``digitalSignature``, an Extended Key Usage
from the C2PA list (document signing, e-mail protection, ...; never ``anyExtendedKeyUsage``) and an
Authority Key Identifier (c2pa-python 0.38 rejects a signing certificate without one), and the
private key must match it. :func:`check_signing_chain` checks exactly that up front so a bad chain
gives one clear :class:`ConfigError` instead of an error from the signing library.

``haikei keys init`` writes a studio test chain into a folder (``keys/`` in the production):

- ``root-ca.pem``   self-signed root CA certificate: give it to verifiers as the trust anchor
- ``root-ca.key``   its private key (mode 0600), to issue a new signing certificate later
- ``chain.pem``     the signing certificate followed by the root CA (the chain C2PA embeds)
- ``signer.key``    the signing private key (mode 0600)

(the defaults of haikei.toml's ``[signing] cert_chain / private_key``).

A studio with a certificate from a CA points its config at that chain and key instead
(:func:`load_credentials`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from haikei.errors import ConfigError
from haikei.imaging.io import atomic_write_bytes

__all__ = [
    "ROOT_CERT_FILE",
    "ROOT_KEY_FILE",
    "SIGNING_CHAIN_FILE",
    "SIGNING_KEY_FILE",
    "KeyFiles",
    "SigningCredentials",
    "check_signing_chain",
    "init_keys",
    "load_credentials",
    "load_studio_keys",
]

ROOT_CERT_FILE = "root-ca.pem"
ROOT_KEY_FILE = "root-ca.key"
SIGNING_CHAIN_FILE = "chain.pem"
SIGNING_KEY_FILE = "signer.key"

# Extended key usages the C2PA trust model accepts for claim signing (C2PA 2.x, "Certificate profile")
OID_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
OID_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
C2PA_SIGNING_EKUS = frozenset(
    {
        OID_EMAIL_PROTECTION,
        OID_DOCUMENT_SIGNING,
        "1.3.6.1.5.5.7.3.8",  # time stamping
        "1.3.6.1.5.5.7.3.9",  # OCSP signing
        "1.3.6.1.4.1.311.76.59.1.9",  # Microsoft document signing
        "1.3.6.1.4.1.62558.2.1",  # C2PA claim signing
    }
)
ANY_EKU = "2.5.29.37.0"


@dataclass(frozen=True)
class KeyFiles:
    directory: Path
    root_cert: Path
    root_key: Path
    signing_chain: Path
    signing_key: Path


@dataclass(frozen=True)
class SigningCredentials:
    """A checked signing chain and key, ready for :mod:`haikei.provenance.c2pa_sign`.

    ``alg`` is the C2PA algorithm name (es256, es384, es512, ps256, ed25519)."""

    chain_pem: bytes
    key_pem: bytes
    alg: str
    subject: str
    issuer: str
    not_after: dt.datetime
    tsa_url: str | None = None


def _x509():  # lazy: cryptography is only needed when signing or making keys
    from cryptography import x509

    return x509


def _name(org: str, cn: str):
    x509 = _x509()
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def init_keys(
    directory: str | os.PathLike[str],
    org: str,
    *,
    force: bool = False,
    root_days: int = 3650,
    signing_days: int = 730,
    now: dt.datetime | None = None,
) -> KeyFiles:
    """Make a studio test chain (P-256 root CA + ES256 signing certificate) in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    org = org.strip()
    if not org or len(org) > 64 or not org.isprintable():
        raise ConfigError(
            "the organisation name must be 1..64 printable characters, no control characters "
            "(--org 'Studio Name')"
        )
    d = Path(directory)
    files = KeyFiles(d, d / ROOT_CERT_FILE, d / ROOT_KEY_FILE, d / SIGNING_CHAIN_FILE, d / SIGNING_KEY_FILE)
    targets = (files.root_cert, files.root_key, files.signing_chain, files.signing_key)
    if d.exists() and not d.is_dir():
        raise ConfigError(f"{d}: exists and is not a folder; choose another --dir")
    in_the_way = [p.name for p in targets if p.exists() and not p.is_file()]
    if in_the_way:  # checked before writing anything: a half-replaced chain signs nothing that verifies
        raise ConfigError(
            f"{d}: {', '.join(in_the_way)} is a folder (or another non-file) where a key file goes; "
            "nothing was written; move it away or choose another --dir"
        )
    existing = [p.name for p in targets if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{d} already holds {', '.join(existing)}; keep them, or pass --force to replace them "
            "(files signed with the old chain then verify only against the old root-ca.pem)"
        )
    now = now or dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(minutes=5)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(org, f"{org} haikei root CA")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=root_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    sign_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(org, f"{org} haikei signing"))
        .issuer_name(root_name)
        .public_key(sign_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=min(signing_days, root_days)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ObjectIdentifier(OID_DOCUMENT_SIGNING), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(sign_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )

    def key_pem(k: ec.EllipticCurvePrivateKey) -> bytes:
        return k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert_pem(c: x509.Certificate) -> bytes:
        return c.public_bytes(serialization.Encoding.PEM)

    d.mkdir(parents=True, exist_ok=True)
    # atomic_write_bytes creates its temp file with mode 0600 (mkstemp); certificates are then opened up
    atomic_write_bytes(files.root_key, key_pem(root_key), mode=0o600)
    atomic_write_bytes(files.signing_key, key_pem(sign_key), mode=0o600)
    atomic_write_bytes(files.root_cert, cert_pem(root))
    atomic_write_bytes(files.signing_chain, cert_pem(leaf) + cert_pem(root))
    for p in (files.root_key, files.signing_key):
        os.chmod(p, 0o600)
    for p in (files.root_cert, files.signing_chain):
        os.chmod(p, 0o644)
    return files


def _alg_for_key(key: object, label: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(key.curve.name)
        if alg is None:
            raise ConfigError(
                f"{label}: EC curve {key.curve.name} is not allowed by C2PA; use P-256, P-384 or P-521"
            )
        return alg
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ConfigError(f"{label}: RSA key of {key.key_size} bits is too short; use 2048 bits or more")
        return "ps256"
    raise ConfigError(
        f"{label}: key type {type(key).__name__} cannot sign C2PA manifests; use EC P-256 (ES256)"
    )


def check_signing_chain(
    chain_pem: bytes, key_pem: bytes, *, label: str = "signing chain", now: dt.datetime | None = None
) -> SigningCredentials:
    """Check a PEM chain (signing certificate first, then its issuers) and key as C2PA will."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        raise ConfigError(f"{label}: not a PEM certificate chain ({exc})") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{label}: the private key is unreadable or encrypted ({exc}); give an unencrypted PEM key"
        ) from None
    leaf = certs[0]
    subject = leaf.subject.rfc4514_string()

    def self_signed(c: x509.Certificate) -> bool:
        if c.issuer != c.subject:
            return False
        try:
            c.verify_directly_issued_by(c)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    if self_signed(leaf):
        raise ConfigError(
            f"{label}: the signing certificate {subject} is self-signed, which C2PA refuses; "
            "run 'haikei keys init' for a studio test chain (root CA + signing certificate) "
            "or use a certificate issued by a CA"
        )
    if len(certs) < 2:
        raise ConfigError(
            f"{label}: holds only the signing certificate {subject}; append its issuing CA "
            "certificate(s) after it (signing certificate first, root last)"
        )
    if leaf.version != x509.Version.v3:
        raise ConfigError(f"{label}: the signing certificate must be X.509 v3")
    exts = leaf.extensions
    try:
        bc = exts.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            raise ConfigError(f"{label}: {subject} is a CA certificate; sign with an end-entity certificate")
    except x509.ExtensionNotFound:
        pass
    try:
        ku = exts.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise ConfigError(
            f"{label}: {subject} has no Key Usage extension; C2PA needs digitalSignature"
        ) from None
    if not ku.digital_signature:
        raise ConfigError(f"{label}: {subject} lacks the digitalSignature key usage that C2PA needs")
    try:
        eku = {o.dotted_string for o in exts.get_extension_for_class(x509.ExtendedKeyUsage).value}
    except x509.ExtensionNotFound:
        raise ConfigError(
            f"{label}: {subject} has no Extended Key Usage; C2PA needs e.g. document signing "
            f"({OID_DOCUMENT_SIGNING}) or e-mail protection ({OID_EMAIL_PROTECTION})"
        ) from None
    if ANY_EKU in eku:
        raise ConfigError(f"{label}: {subject} has anyExtendedKeyUsage, which C2PA refuses")
    if not eku & C2PA_SIGNING_EKUS:
        raise ConfigError(
            f"{label}: {subject} has none of the extended key usages C2PA accepts "
            f"({', '.join(sorted(C2PA_SIGNING_EKUS))})"
        )
    try:
        exts.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        raise ConfigError(
            f"{label}: {subject} has no Authority Key Identifier extension, without which the C2PA "
            "library calls the certificate invalid; reissue it with one"
        ) from None
    now = now or dt.datetime.now(dt.UTC)
    for c in certs:
        if not (c.not_valid_before_utc <= now <= c.not_valid_after_utc):
            raise ConfigError(
                f"{label}: certificate {c.subject.rfc4514_string()} is not valid now "
                f"({c.not_valid_before_utc:%Y-%m-%d} .. {c.not_valid_after_utc:%Y-%m-%d}); renew it"
            )
    for child, parent in itertools.pairwise(certs):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise ConfigError(
                f"{label}: {child.subject.rfc4514_string()} is not issued by the next certificate "
                f"{parent.subject.rfc4514_string()}; order the chain signing certificate first, root last"
            ) from None
    alg = _alg_for_key(key, label)
    pub = key.public_key()  # type: ignore[union-attr]
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if pub.public_bytes(*fmt) != leaf.public_key().public_bytes(*fmt):
        raise ConfigError(f"{label}: the private key does not belong to the signing certificate {subject}")
    return SigningCredentials(
        chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs),
        key_pem=key_pem,
        alg=alg,
        subject=subject,
        issuer=leaf.issuer.rfc4514_string(),
        not_after=leaf.not_valid_after_utc,
    )


def load_credentials(
    chain_path: str | os.PathLike[str], key_path: str | os.PathLike[str], *, tsa_url: str | None = None
) -> SigningCredentials:
    """Read and check a signing chain (PEM, signing certificate first) and its private key."""
    cp, kp = Path(chain_path), Path(key_path)
    for p, what in ((cp, "certificate chain"), (kp, "private key")):
        if not p.is_file():
            raise ConfigError(f"{p}: {what} not found; run 'haikei keys init' or fix the path in haikei.toml")
    creds = check_signing_chain(cp.read_bytes(), kp.read_bytes(), label=str(cp))
    if tsa_url:
        from dataclasses import replace

        creds = replace(creds, tsa_url=tsa_url)
    return creds


def load_studio_keys(directory: str | os.PathLike[str]) -> SigningCredentials:
    """The chain written by :func:`init_keys` in ``directory``."""
    d = Path(directory)
    return load_credentials(d / SIGNING_CHAIN_FILE, d / SIGNING_KEY_FILE)
