"""The application: accounts, catalog, videos, jobs (and later orders, attribution, live)."""
