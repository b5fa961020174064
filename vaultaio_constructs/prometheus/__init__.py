"""Prometheus: the metrics server (``prometheus.yml`` renderer in :mod:`.config`, construct in
:mod:`.construct`). Alert rules live in :mod:`vaultaio_constructs.alerts`."""
