"""Loki: the log store (config renderer in :mod:`.config`, construct in :mod:`.construct`)."""
