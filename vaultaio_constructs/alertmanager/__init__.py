"""Alertmanager: notification routing (``alertmanager.yml`` renderer and receivers in :mod:`.config`,
construct in :mod:`.construct`)."""
