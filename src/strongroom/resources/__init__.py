"""Where resources live: resource groups and quota definitions (spec §7), service instances,
their keys and reclamations (spec §8), enterprises with their account groups and accounts
(spec §9)."""
