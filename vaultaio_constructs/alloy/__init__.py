"""Alloy: the per-node collector (Alloy-syntax renderer in :mod:`.syntax`, config in :mod:`.config`,
construct in :mod:`.construct`)."""
