"""Credentials in URL-typed settings: what counts as one, and how errors show a URL without it (review
finding 6). The table of refused settings is in tests/test_bad_input.py; tests/test_canary.py feeds a
canary through every string setting."""

from __future__ import annotations

import pytest

from vaultaio_constructs.common import redact_url, redact_urls, url_credentials
from vaultaio_constructs.settings import SettingsError, parse_settings


@pytest.mark.parametrize(
    ("value", "found", "shown"),
    [
        ("https://admin:pw@loki.example.com", "user information before '@'", "https://***@loki.example.com"),
        ("https://tok3n@h.example.com/x", "user information before '@'", "https://***@h.example.com/x"),
        (
            "https://h.example.com/x?token=abc&tenant=a",
            "the parameter 'token'",
            "https://h.example.com/x?token=***&tenant=***",
        ),
        (
            "https://h.example.com/x?X-Amz-Signature=abc",
            "the parameter 'X-Amz-Signature'",
            "https://h.example.com/x?X-Amz-Signature=***",
        ),
        (
            "https://h.example.com/x?sv=1&sig=abc",
            "the parameter 'sig'",
            "https://h.example.com/x?sv=***&sig=***",
        ),
        (
            "https://h.example.com/#access_token=abc",
            "the parameter 'access_token'",
            "https://h.example.com/#***",
        ),
        ("ak:secret@minio.storage.svc:9000", "user information before '@'", "***@minio.storage.svc:9000"),
        # not credentials: a plain URL, a harmless query, an email address or a service account
        ("https://mimir.example.com/api/v1/push", None, "https://mimir.example.com/api/v1/push"),
        ("https://wiki.example.com/r?page=runbook", None, "https://wiki.example.com/r?page=***"),
        ("vault@acme.iam.gserviceaccount.com", None, "vault@acme.iam.gserviceaccount.com"),
        ("https://h.example.com/a\nb", None, "https://h.example.com/a\nb"),
    ],
)
def test_what_counts_as_a_credential_and_how_it_is_shown(value: str, found: str | None, shown: str) -> None:
    assert url_credentials(value) == found
    assert redact_url(value) == shown


def test_every_url_in_a_message_is_redacted() -> None:
    message = "x: got 'https://u:pw@a.example.com/p?key=k1' and https://b.example.com/?sig=k2#k3 fine"
    redacted = redact_urls(message)
    assert (
        redacted == "x: got 'https://***@a.example.com/p?key=***' and https://b.example.com/?sig=***#*** fine"
    )
    for secret in ("pw", "k1", "k2", "k3"):
        assert f"{secret}'" not in redacted and f"={secret}" not in redacted


def test_a_message_that_does_not_redact_is_redacted_by_the_formatter() -> None:
    """A pattern error (pydantic's own message) would add '(got <value>)': the value shown is redacted."""
    settings = {
        "vault": {
            "seal": {
                "type": "awskms",
                "region": "eu-west-1",
                "kms_key_id": "alias/vault",
                "role_arn": "arn:aws:iam::123456789012:role/vault",
                "endpoint": 'https://u:Sup3rS3cret@kms.example.com/"x',  # a quote: refused by the pattern
                "egress_cidrs": ["203.0.113.0/24"],
            }
        }
    }
    with pytest.raises(
        SettingsError, match=r"vault\.seal\.awskms\.endpoint: String should match pattern"
    ) as info:
        parse_settings(settings)
    assert "Sup3rS3cret" not in str(info.value)
    assert "https://***@kms.example.com" in str(info.value)
