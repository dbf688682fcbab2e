"""Resource hierarchy use cases: enterprises, their account groups and accounts (spec §9)."""
