"""The expiry (``notAfter``) of a PEM certificate, read with a minimal DER walker (no crypto library needed:
nothing is verified, only a date is read from a public certificate)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


class CertificateError(ValueError):
    pass


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertificateError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise CertificateError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise CertificateError("truncated DER")
    return tag, pos, pos + length


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18:  # GeneralizedTime YYYYMMDDHHMMSSZ
        raise CertificateError(f"unexpected time tag 0x{tag:02x}")
    return datetime.strptime(text.rstrip("Z"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def not_after(pem: bytes | str) -> datetime:
    """The ``notAfter`` of the first certificate in ``pem``."""
    data = pem.encode() if isinstance(pem, str) else pem
    match = _PEM.search(data)
    if not match:
        raise CertificateError("no PEM certificate found")
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except ValueError as exc:
        raise CertificateError("the PEM block is not base64") from exc
    _, cert, _ = _tlv(der, 0)  # Certificate SEQUENCE
    tag, pos, tbs_end = _tlv(der, cert)  # tbsCertificate SEQUENCE
    tag, start, end = _tlv(der, pos)
    if tag == 0xA0:  # [0] version
        tag, start, end = _tlv(der, end)
    # serialNumber (just read), signature, issuer, validity
    for _ in range(2):
        tag, start, end = _tlv(der, end)
    tag, start, end = _tlv(der, end)  # validity SEQUENCE
    if tag != 0x30 or end > tbs_end:
        raise CertificateError("no validity in the certificate")
    tag, _, e1 = _tlv(der, start)  # notBefore
    tag, s2, e2 = _tlv(der, e1)  # notAfter
    return _time(tag, der[s2:e2])
