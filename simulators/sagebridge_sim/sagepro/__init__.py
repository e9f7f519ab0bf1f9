"""Sage Pro ERP for tests and the dev stack: its tables (built from the connector's layout, so a test
can also build one that differs), a throwaway PostgreSQL 15 cluster reached through psqlODBC, the
demo company, and the ERP-side driver that changes stock, prices, customers and ships orders.
Sage Pro itself has no API (reference sage300_sagepro.md §3); the database is the simulator."""
