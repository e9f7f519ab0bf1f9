"""Sage Intacct XML gateway simulator (intacct.md §1-§5; wire and objects per the issue-9 contract).

`python -m sagebridge_sim.intacct` serves it; `testing.running_sim()` runs it in a thread for tests.
"""
