"""The sandbox's SQLite store: one module per aggregate, plain functions over a connection.

Every function takes the ``sqlite3.Connection`` of the caller's transaction (``Database.read``
or ``Database.write``) and raises ``ApiError`` for what a client did wrong; the caller decides
the transaction's fate. Rows are ``sqlite3.Row``; ``serialize`` turns them into wire JSON.
"""
