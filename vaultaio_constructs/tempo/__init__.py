"""Tempo: the trace store (config renderer in :mod:`.config`, construct in :mod:`.construct`)."""
