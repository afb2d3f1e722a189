"""catalog: what can be bought and where.

Owns GPU classes with their price history (the price book: pricebook.py answers "what did a
GPU-hour cost at time t"), regions with the GPUs free there, and storage tiers; seeded by a
data migration. selectors.catalog_snapshot() hands the pure spec code a frozen copy.
"""
