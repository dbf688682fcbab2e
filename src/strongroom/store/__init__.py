"""Storage: `ports` declares what the domain needs; `sql` is the one adapter (SQLite and PostgreSQL)."""
