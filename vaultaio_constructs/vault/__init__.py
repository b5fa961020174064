"""Vault: the construct (:mod:`.construct`), its settings (:mod:`.props`), the server configuration
(:mod:`.config`), the seals (:mod:`.seals`) and the ACL policies (:mod:`.policies`)."""
