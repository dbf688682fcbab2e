"""The one SQL adapter: SQLAlchemy Core over SQLite and PostgreSQL (psycopg 3)."""
