"""Sage Pro ERP for tests and the dev stack: its tables (built from the connector's layout, so a test
can also build one that differs), a throwaway PostgreSQL 15 cluster reached through psqlODBC, the
demo company, and the ERP-side driver that changes stock, prices, customers and ships orders.
Sage Pro itself has no API (reference sage300_sagepro.md §3); the database is the simulator.

Modules: schema (CREATE TABLE from the layout), pg_cluster (PostgresCluster), values (column values
in and out), db (SageProDb: rows by logical table and field over ODBC), demo (seed_demo,
ensure_schema), driver (SageProDriver: a clerk's changes), locks (LockHold: another user's lock),
app (the `/_sim/` control server), testing (running_sim), __main__ (`python -m sagebridge_sim.sagepro`).
"""
