"""Integrations with monitoring a cluster already runs (``monitoring:`` in ``vaultaio.yaml``).

:mod:`.props` holds the settings (imported with the settings schema, so it stays light);
:mod:`.prometheus_operator` the component that emits Prometheus Operator custom resources, loaded only when
``monitoring.prometheus_operator`` is set.
"""
