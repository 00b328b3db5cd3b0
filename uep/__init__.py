"""uep: entry points, settings and infrastructure of the User Entry Process engine."""
