"""Where the workspace's memory lives: one interface (:class:`ordertags.storage.base.Database`)
and its backends, SQLite (a file in the workspace, the default) and PostgreSQL (a server
several machines share). Only this package opens database connections; the history's SQL
(:mod:`ordertags.customers.store`, ``ingest``, ``queries``) runs through the interface.

This package imports nothing heavy: the quick commands read the history through it.
"""
