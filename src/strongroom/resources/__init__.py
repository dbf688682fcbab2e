"""Resource Controller (spec ibm-platform-api.md §8): service instances, resource keys and
reclamations. Resource groups (§7) are another package's; this one reaches them through the
`find_resource_group` hook that bootstrap wires."""
