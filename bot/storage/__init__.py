"""The two back ends behind bot/store.py's interface: sqlite.py (the embedded default, one host)
and postgres.py (OSPO_DATABASE_URL, several hosts). Each holds all of its own SQL that differs:
the schema's migrations, transactions, claims' locking, keyword search, date arithmetic, the sync lock."""


class StorageError(Exception):
    """The database cannot be used (locked, full, read-only, unreachable...); the message says what to do."""
