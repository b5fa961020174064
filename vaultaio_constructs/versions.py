"""Every container image the stack runs, pinned to an exact tag, in one place.

Tags are the newest stable releases seen in late summer 2026 (see ``../shared/reference/vault-facts.md``
section 8 for the sources). Settings may override a tag per component (``<component>.image_tag`` in
``vaultaio.yaml``, e.g. ``vault.image_tag``); overrides are validated against :data:`IMAGE_TAG_PATTERN` so
``latest`` and empty tags are refused.
"""

from __future__ import annotations

import re
from typing import Final

#: A tag must name an exact version: digits and dots, optional leading ``v`` and optional suffix.
IMAGE_TAG_PATTERN: Final = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$")

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


def image(component: str, tag: str | None = None) -> str:
    """Return ``repository:tag`` for ``component``, with ``tag`` overriding the pinned one."""
    repository, pinned = IMAGES[component]
    return f"{repository}:{tag or pinned}"


def version(component: str, tag: str | None = None) -> str:
    """The version label value for ``component`` (the tag without a leading ``v``)."""
    return (tag or IMAGES[component][1]).removeprefix("v")
