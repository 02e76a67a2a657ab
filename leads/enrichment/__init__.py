"""Lead enrichment: the built-in providers and the pure helpers they share.

`titles` (job title -> seniority and function) and `domains` (email or domain -> company, free mail,
disposable or invalid) are pure: no ORM, no clock and no network, so they are tested without a database.
"""
