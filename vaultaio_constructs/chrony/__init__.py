"""Chrony: node time synchronisation (chrony.conf renderer in :mod:`.config`, construct in
:mod:`.construct`)."""
