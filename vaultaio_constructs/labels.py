"""Standard ``app.kubernetes.io/*`` labels and the selector subset that stays stable across upgrades."""

from __future__ import annotations

from typing import Final

PART_OF: Final = "vault-aio"
MANAGED_BY: Final = "cdk8s"

NAME: Final = "app.kubernetes.io/name"
INSTANCE: Final = "app.kubernetes.io/instance"
COMPONENT: Final = "app.kubernetes.io/component"
PART_OF_KEY: Final = "app.kubernetes.io/part-of"
VERSION: Final = "app.kubernetes.io/version"
MANAGED_BY_KEY: Final = "app.kubernetes.io/managed-by"


def selector_labels(name: str, instance: str) -> dict[str, str]:
    """Labels that select a component's pods. ``version`` is left out so upgrades keep selectors valid."""
    return {NAME: name, INSTANCE: instance}


def standard_labels(*, name: str, instance: str, component: str, version: str) -> dict[str, str]:
    """All standard labels for an object of ``name`` (``component`` is its role, e.g. ``secrets-store``)."""
    return {
        **selector_labels(name, instance),
        COMPONENT: component,
        PART_OF_KEY: PART_OF,
        VERSION: version,
        MANAGED_BY_KEY: MANAGED_BY,
    }
