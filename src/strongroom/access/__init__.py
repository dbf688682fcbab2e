"""Access management: policies, custom roles, and who may change them (spec §6; seed 003)."""
