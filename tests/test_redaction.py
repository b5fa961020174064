"""Credentials in URL-typed settings: what counts as one, and how errors show a URL without it (review
finding 6). The table of refused settings is in tests/test_bad_input.py; tests/test_canary.py feeds a
canary through every string setting."""

from __future__ import annotations

import pytest

from vaultaio_constructs.common import USERINFO, USERINFO_ANYWHERE, redact_url, redact_urls, url_credentials
from vaultaio_constructs.settings import SettingsError, parse_settings

LAST_AT = USERINFO + USERINFO_ANYWHERE


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
        # a password with '/', '?' or '#' (openssl rand -base64 gives '/'): the userinfo runs to the last '@'
        ("https://admin:s3cr/et@h.example.com/a", LAST_AT, "https://***@h.example.com/a"),
        ("https://admin:1234/et@h.example.com/a", LAST_AT, "https://***@h.example.com/a"),
        ("https://admin:pa#ss@h.example.com/a", LAST_AT, "https://***@h.example.com/a"),
        ("https://admin:pa?ss@h.example.com/a", LAST_AT, "https://***@h.example.com/a"),
        (
            "https://admin:ab/cd?ef#gh@h.example.com/a?x=1#f",
            LAST_AT,
            "https://***@h.example.com/a?x=***#***",
        ),
        ("https://h.example.com/@team/hook", LAST_AT, "https://***@team/hook"),
        ("user:pa/ss@smtp.example.com", LAST_AT, "***@smtp.example.com"),
        ("user:pa#ss?x@ntp.example.com:123", LAST_AT, "***@ntp.example.com:123"),
        # a raw '@' in a query or fragment could be the end of such a password: refused, %40 is accepted
        (
            "https://h.example.com/x?email=ops@example.com",
            LAST_AT,
            "https://***@example.com",
        ),
        ("https://h.example.com/x?email=ops%40example.com", None, "https://h.example.com/x?email=***"),
        # path parameters (';name=value') are parameters too
        ("https://h.example.com/a;token=abc", "the parameter 'token'", "https://h.example.com/a;token=***"),
        (
            "https://h.example.com/a;jsessionid=abc/b;v=1",
            "the parameter 'jsessionid'",
            "https://h.example.com/a;jsessionid=***/b;v=***",
        ),
        ("https://h.example.com/a;v=1", None, "https://h.example.com/a;v=***"),
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


_PASSWORD = "pa/ss#w?rdPW"
_WEBHOOK = {"name": "hook", "cidrs": ["198.51.100.0/24"]}


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (
            {"alertmanager": {"notifications": {"webhook_receivers": [{**_WEBHOOK, "url": url}]}}},
            "alertmanager.notifications.webhook_receivers.0",
        )
        for url in (
            "https://admin:1234/etPW@hooks.example.com/a",  # read as host 'admin', port 1234: was accepted
            f"https://admin:{_PASSWORD}@hooks.example.com/a",
            "https://admin:pa#ssPW@hooks.example.com/a",
            "https://hooks.example.com/a;token=SECRETPW",
        )
    ]
    + [
        ({"grafana": {"root_url": f"https://admin:{_PASSWORD}@grafana.example.com/"}}, "grafana.root_url"),
        (
            {
                "prometheus": {
                    "remote_write": [
                        {
                            "name": "m",
                            "url": f"https://u:{_PASSWORD}@mimir.example.com/api/v1/push",
                            "cidrs": ["203.0.113.0/24"],
                        }
                    ]
                }
            },
            "prometheus.remote_write.0.url",
        ),
    ],
)
def test_a_url_whose_password_holds_reserved_characters_is_refused_unshown(
    settings: dict[str, object], key: str
) -> None:
    """Review 2, H2: the userinfo ended at the first '/', '?' or '#', so these were shown, or accepted."""
    with pytest.raises(SettingsError) as info:
        parse_settings(settings)
    text = str(info.value)
    assert "PW" not in text and "pa/ss" not in text and "1234/" not in text, text
    assert f"{key}" in text and "must not contain credentials" in text, text


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (
            {
                "alertmanager": {
                    "notifications": {
                        "email_receivers": [
                            {
                                "name": "mail",
                                "to": "ops@example.com",
                                "from_address": "v@example.com",
                                "smarthost": f"user:{_PASSWORD}@smtp.example.com",
                                "cidrs": ["198.51.100.0/24"],
                            }
                        ]
                    }
                }
            },
            "alertmanager.notifications.email_receivers.0.smarthost",
        ),
        (
            {
                "chrony": {
                    "servers": [
                        {
                            "name": "ntp",
                            "address": f"user:{_PASSWORD}@ntp.example.com",
                            "cidrs": ["198.51.100.0/24"],
                        }
                    ]
                }
            },
            "chrony.servers.0.address",
        ),
    ],
)
def test_a_host_with_user_information_is_refused_unshown(settings: dict[str, object], key: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(settings)
    text = str(info.value)
    assert "PW" not in text and "pa/ss" not in text, text
    assert key in text and "must not contain credentials" in text and "Secret" in text, text
