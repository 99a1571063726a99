"""PAdES signatures on every notice: the union's keys, signing at issue, validation for /verify.

A notice printed and passed on as a file proves itself: any PDF reader shows who signed it and that it is
unchanged. The keys live in CASEWORK_KEYS_DIR (default: the instance folder's `keys/`):

    ca.crt, ca.p12          the union's own root certificate and its key (made by `casework keys init`)
    trust/*.crt             every root a notice may chain to (the own CA, the roots of imported certificates)
    signers/<serial>.p12    signing certificates with their keys; old ones stay for the record
    current                 the serial of the certificate that signs new notices

Every .p12 is encrypted with CASEWORK_SIGNING_PASSPHRASE (default: derived from the secret key). A rollover
adds a signer and points `current` at it; old notices keep validating because each embeds its own
certificate and every root stays in trust/.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

from flask import current_app

log = logging.getLogger("casework.signing")

SIGNER_YEARS = 5
CA_YEARS = 20
FIELD = "Signature1"


class SigningError(Exception):
    """The keys are missing, unreadable or not fit for signing; the message says which, in one line."""


def keys_dir() -> Path:
    configured = current_app.config.get("CASEWORK_KEYS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "keys"


def _passphrase() -> bytes:
    given = current_app.config.get("CASEWORK_SIGNING_PASSPHRASE")
    if given:
        return given.encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"casework notice signing keys", hashlib.sha256).hexdigest().encode()


@contextmanager
def _locked(folder: Path):
    """One process at a time makes or changes keys: two workers issuing their first notice at once must
    not each make a CA."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# -- making keys -------------------------------------------------------------------------------

def _name(common: str, org: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _usage(**on):
    from cryptography import x509
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


def _p12(name: str, key, cert, chain=()) -> bytes:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    return pkcs12.serialize_key_and_certificates(name.encode(), key, cert, list(chain) or None,
                                                 BestAvailableEncryption(_passphrase()))


def _load_p12(data: bytes, password: bytes | None):
    from cryptography.hazmat.primitives.serialization import pkcs12
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        raise SigningError("the PKCS#12 file cannot be opened: wrong password, or not a PKCS#12 file") from None
    if key is None or cert is None:
        raise SigningError("the PKCS#12 file holds no private key with its certificate")
    return key, cert, list(chain or [])


def _pem(cert) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding
    return cert.public_bytes(Encoding.PEM)


def init_keys(org: str, *, rollover: bool = False) -> dict:
    """Makes the union's CA (unless it exists) and a new signing certificate issued by it, now current.
    Without `rollover`, an installation that already signs is left as it is."""
    folder = keys_dir()
    with _locked(folder):
        if (folder / "current").exists() and not rollover:
            return {"created": False, **describe()}
        return _init_locked(folder, org)


def _init_locked(folder: Path, org: str) -> dict:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    now = datetime.now(timezone.utc)
    if (folder / "ca.p12").exists():
        ca_key, ca_cert, _chain = _load_p12((folder / "ca.p12").read_bytes(), _passphrase())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"{org} 电子文书根证书", org)
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=365 * CA_YEARS))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                                  critical=False)
                   .sign(ca_key, hashes.SHA256()))
        _write(folder / "ca.p12", _p12("ca", ca_key, ca_cert))
        _write(folder / "ca.crt", _pem(ca_cert))
        _write(folder / "trust" / f"{ca_cert.serial_number:x}.crt", _pem(ca_cert))
    ca_org = ca_cert.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
    org = ca_org[0].value if ca_org else org
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(f"{org} 文书签章", org))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(min(now + timedelta(days=365 * SIGNER_YEARS), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(digital_signature=True, content_commitment=True), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    serial = f"{cert.serial_number:x}"
    _write(folder / "signers" / f"{serial}.p12", _p12(serial, key, cert, [ca_cert]))
    _write(folder / "current", serial.encode())
    log.info("notice signing certificate %s made for %s", serial, org)
    return {"created": True, **describe()}


def import_p12(data: bytes, password: bytes | None) -> dict:
    """Takes a signing certificate from a real CA: its chain's root joins the trusted roots, and it signs
    from now on. Refuses a certificate that is expired, not yet valid, or not allowed to sign."""
    from cryptography import x509
    key, cert, chain = _load_p12(data, password)
    now = datetime.now(timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SigningError(f"the certificate is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                           f"{cert.not_valid_after_utc:%Y-%m-%d}, not today")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            raise SigningError("the certificate's key usage does not allow signing documents")
    except x509.ExtensionNotFound:
        pass
    roots = [c for c in chain if c.issuer == c.subject] or ([cert] if cert.issuer == cert.subject else [])
    if not roots:
        raise SigningError("the PKCS#12 file does not include the root certificate of its chain")
    folder = keys_dir()
    with _locked(folder):
        for root in roots:
            _write(folder / "trust" / f"{root.serial_number:x}.crt", _pem(root))
        serial = f"{cert.serial_number:x}"
        _write(folder / "signers" / f"{serial}.p12", _p12(serial, key, cert, chain))
        _write(folder / "current", serial.encode())
    _signer_cache.clear()
    return describe()


def describe() -> dict:
    """The current signer and every certificate kept, for `casework keys list` and the admin."""
    folder = keys_dir()
    current = (folder / "current").read_text().strip() if (folder / "current").exists() else None
    signers = []
    for path in sorted((folder / "signers").glob("*.p12")) if (folder / "signers").is_dir() else []:
        try:
            _key, cert, _chain = _load_p12(path.read_bytes(), _passphrase())
        except SigningError as exc:
            signers.append({"serial": path.stem, "error": str(exc)})
            continue
        signers.append({"serial": path.stem, "subject": cert.subject.rfc4514_string(),
                        "not_after": cert.not_valid_after_utc.date().isoformat(),
                        "current": path.stem == current})
    return {"current": current, "signers": signers, "trusted": len(_trust_roots_pem())}


# -- signing -----------------------------------------------------------------------------------

@dataclass
class _Loaded:
    stamp: tuple
    signer: object
    reserve: int | None = None  # CMS bytes this signer's signatures take, once measured


_signer_cache: dict[str, _Loaded] = {}


def _signer(org: str):
    """The current signer, loaded once per process (PKCS#12 decryption is slow) and again after a rollover;
    an installation without keys gets them on its first notice."""
    from asn1crypto import keys as akeys, x509 as ax509
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore
    folder = keys_dir()
    if not (folder / "current").exists():
        init_keys(org)
    serial = (folder / "current").read_text().strip()
    path = folder / "signers" / f"{serial}.p12"
    try:
        stamp = (str(folder), serial, path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise SigningError(f"the current signing certificate {serial} is missing from {folder}") from None
    cached = _signer_cache.get(str(folder))
    if cached is not None and cached.stamp == stamp:
        return cached.signer
    key, cert, chain = _load_p12(path.read_bytes(), _passphrase())
    der = lambda c: ax509.Certificate.load(c.public_bytes(Encoding.DER))  # noqa: E731
    signer = signers.SimpleSigner(
        signing_cert=der(cert),
        signing_key=akeys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([der(c) for c in chain]),
        embed_roots=False)  # a validator brings its own roots: embedding them only adds bytes
    _signer_cache[str(folder)] = _Loaded(stamp, signer)
    return signer


def _compact_writer(pdf: bytes):
    """An incremental writer that packs the update's dictionaries (catalog, page, info, form field, widget)
    into one compressed object stream and compresses the XMP packet: pyHanko writes them as plain text,
    ~1 KB of a notice. The signature dictionary stays a plain object: its /ByteRange and /Contents are
    filled in by their byte offsets."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_byterange import PdfByteRangeDigest

    class Compact(IncrementalPdfFileWriter):
        def _write_objects(self, stream, object_position_dict):
            if self.stream_xrefs:
                packed = None
                for key in sorted(self.objects):
                    obj = self.objects[key]
                    if isinstance(obj, generic.StreamObject):
                        if "/Filter" not in obj:
                            obj.compress()
                    elif (key[0] == 0 and isinstance(obj, generic.DictionaryObject)
                          and not isinstance(obj, PdfByteRangeDigest)):
                        packed = packed or self.prepare_object_stream()
                        packed.add_object(key[1], obj)
                        self.objs_in_streams[key[1]] = obj
                        del self.objects[key]
            super()._write_objects(stream, object_position_dict)

    return Compact(BytesIO(pdf))


def sign(pdf: bytes, *, org: str, reason: str) -> bytes:
    """The PDF with a PAdES baseline signature of the current signer (and an RFC 3161 timestamp when
    CASEWORK_TSA_URL is set), as an incremental update: the rendered bytes stay as they were."""
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    signer = _signer(org)
    loaded = _signer_cache[str(keys_dir())]
    tsa = current_app.config.get("CASEWORK_TSA_URL")
    meta = signers.PdfSignatureMetadata(field_name=FIELD, subfilter=SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location=org)
    writer = _compact_writer(pdf)
    # pyHanko's estimate leaves ~1 KB of zero padding (2 KB as hex); without a timestamp a signer's CMS has
    # the same size every time but for a few bytes of DER, so after the first we reserve just that.
    reserve = 2 * loaded.reserve + 32 if loaded.reserve and not tsa else None  # hex digits
    try:
        out = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=reserve,
                               timestamper=timestamps.HTTPTimeStamper(tsa, timeout=10) if tsa else None)
    except Exception as exc:  # noqa: BLE001 - a TSA or key failure must say what failed, not 500
        raise SigningError(f"the notice could not be signed: {exc.__class__.__name__}: {exc} "
                           f"({exc.__cause__ or exc.__context__})") from None
    signed = out.getvalue()
    if not tsa and loaded.reserve is None:
        loaded.reserve = _cms_length(signed)
        if loaded.reserve:  # the first notice of a process: once more, without the estimate's padding
            return sign(pdf, org=org, reason=reason)
    return signed


def _cms_length(pdf: bytes) -> int | None:
    """The DER length of the last signature's CMS (its /Contents without the zero padding)."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader
    try:
        sig = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures[-1]
        raw = sig.sig_object["/Contents"]
        return len(cms.ContentInfo.load(bytes(raw), strict=False).dump())
    except Exception:  # noqa: BLE001  measuring is an optimisation; the estimate still works
        return None


# -- validating --------------------------------------------------------------------------------

def _trust_roots_pem() -> list[bytes]:
    folder = keys_dir() / "trust"
    return [p.read_bytes() for p in sorted(folder.glob("*.crt"))] if folder.is_dir() else []


@dataclass
class Check:
    signed: bool
    intact: bool = False       # the signed bytes are unchanged
    trusted: bool = False      # the certificate chains to one of the union's roots
    covers_all: bool = False   # nothing was appended after the signature
    signer: str = ""
    signed_at: datetime | None = None
    problem: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.trusted and self.covers_all


def check(pdf: bytes) -> Check:
    """Validates the notice's signature against the union's trusted roots, as a PDF reader would."""
    from asn1crypto import pem, x509 as ax509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return Check(signed=False, problem=f"unreadable PDF: {exc}")
    if not sigs:
        return Check(signed=False, problem="no signature")
    roots = []
    for data in _trust_roots_pem():
        _type, _headers, der = pem.unarmor(data)
        roots.append(ax509.Certificate.load(der))
    sig = sigs[-1]
    try:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
    except (SignatureValidationError, PdfReadError, ValueError, KeyError, TypeError) as exc:
        return Check(signed=True, problem=str(exc))
    cert = status.signing_cert
    org = cert.subject.native.get("organization_name") or ""
    common = cert.subject.native.get("common_name") or ""
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    return Check(signed=True, intact=bool(status.intact and status.valid), trusted=bool(status.trusted),
                 covers_all=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                 signer=common or org, signed_at=status.signer_reported_dt)
