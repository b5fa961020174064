"""What Prometheus needs to scrape one component: a typed target built from the component's endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

from vaultaio_constructs.common import SecretKeyRef
from vaultaio_constructs.prometheus.config import ScrapeProtocol
from vaultaio_constructs.wiring import Endpoint, Scheme


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """One Prometheus scrape job.

    ``endpoint.per_pod`` targets are discovered per pod through DNS (the headless Service publishes not-ready
    pods too, so a sealed Vault is still scraped); others are scraped through their Service.
    """

    #: Prometheus job label (unique per Prometheus).
    job: str
    endpoint: Endpoint
    metrics_path: str = "/metrics"
    #: URL query parameters (``{"format": ("prometheus",)}`` for Vault).
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: CA bundle to verify the target's certificate, mounted into Prometheus from this Secret key.
    ca: SecretKeyRef | None = None
    #: TLS server name to verify (a SAN on the target's certificate) when scraping pods by IP.
    server_name: str | None = None
    scrape_interval_seconds: int | None = None
    #: Format Prometheus falls back to when the target sends no or an unknown ``Content-Type`` (Prometheus 3
    #: fails such a scrape otherwise); ``None`` for targets that send a proper type, as every built-in does.
    fallback_scrape_protocol: ScrapeProtocol | None = None

    def __post_init__(self) -> None:
        if self.endpoint.scheme not in (Scheme.HTTP, Scheme.HTTPS):
            raise ValueError(f"scrape target {self.job!r} must be http or https, got {self.endpoint.scheme}")
        if not self.metrics_path.startswith("/"):
            raise ValueError(
                f"scrape target {self.job!r}: metrics_path must start with '/', got {self.metrics_path!r}"
            )

    @property
    def https(self) -> bool:
        return self.endpoint.scheme == Scheme.HTTPS
