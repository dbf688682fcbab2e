"""Resource groups and quota definitions (spec §7, Resource Manager); service instances and
enterprises join them here."""
