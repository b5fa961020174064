"""Every container image the stack runs, pinned to an exact tag, in one place.

Tags are the newest stable releases seen in late summer 2026 (see ``../shared/reference/vault-facts.md``
section 8 for the sources). Settings may override a tag per component (``<component>.image_tag`` in
``vaultaio.yaml``, e.g. ``vault.image_tag``); overrides are validated against :data:`IMAGE_TAG_PATTERN` so
``latest`` and empty tags are refused. ``<component>.image_digest`` pins the image content too
(``repository:tag@sha256:...``: the runtime pulls by digest, the tag stays for people reading it), and
``<component>.image_repository`` replaces the repository (a mirror, or another Chrony image). No digest is
set by default: a digest fixes one platform's or one index's content, which only the operator can choose
(``make digests`` prints them for the pinned tags; README, "Pinning images by digest").
"""

from __future__ import annotations

import re
from typing import Final

#: A tag must name an exact version: digits and dots, optional leading ``v`` and optional suffix.
IMAGE_TAG_PATTERN: Final = re.compile(r"v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?")
#: An OCI content digest as registries report it (``crane digest``, ``skopeo inspect``).
IMAGE_DIGEST_PATTERN: Final = re.compile(r"sha256:[0-9a-f]{64}")
#: An image repository: ``[registry[:port]/]path`` in lowercase, without a tag or digest.
IMAGE_REPOSITORY_PATTERN: Final = re.compile(
    r"(?=.{1,255}\Z)([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?/)?"
    r"[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
)

#: component name -> (repository, tag)
IMAGES: Final[dict[str, tuple[str, str]]] = {
    "vault": ("docker.io/hashicorp/vault", "2.0.4"),
    "prometheus": ("quay.io/prometheus/prometheus", "v3.14.0"),
    "alertmanager": ("quay.io/prometheus/alertmanager", "v0.34.0"),
    "grafana": ("docker.io/grafana/grafana", "13.2.0"),
    "loki": ("docker.io/grafana/loki", "3.7.6"),
    "tempo": ("docker.io/grafana/tempo", "2.10.8"),
    "alloy": ("docker.io/grafana/alloy", "v1.18.1"),
    # dockurr/chrony tags follow Alpine's chrony package; 4.8 is a tag seen pinned in public deployments
    # (the 4.6.1 tag could not be confirmed). Consider pinning a digest: the tags are rebuilt on Alpine edge.
    "chrony": ("docker.io/dockurr/chrony", "4.8"),
}


def image(
    component: str, tag: str | None = None, *, digest: str | None = None, repository: str | None = None
) -> str:
    """``repository:tag`` for ``component`` (``repository:tag@digest`` with a digest); ``tag`` and
    ``repository`` override the pinned ones."""
    pinned_repository, pinned = IMAGES[component]
    reference = f"{repository or pinned_repository}:{tag or pinned}"
    return f"{reference}@{digest}" if digest else reference


def version(component: str, tag: str | None = None) -> str:
    """The version label value for ``component`` (the tag without a leading ``v``)."""
    return (tag or IMAGES[component][1]).removeprefix("v")
