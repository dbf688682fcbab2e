"""Storage: `ports` says what the domain needs; `sql` is the one adapter (SQLite, PostgreSQL)."""
