"""spend: what deployments cost while they ran.

Owns the status samples and daily rollups, metering (samples × the price in force, from
catalog.pricebook), the scale-to-zero ledger and batch-run cost, and the team budgets.
Estimates before anything runs are specs/cost.py.
"""
