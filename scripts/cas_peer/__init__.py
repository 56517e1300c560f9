"""The peer of the CAS benchmark (scripts/bench-cas.sh): a minimal Django project serving the
reference CAS server django-cas-server from PyPI, on the loopback, over SQLite. It is not part of
Préau; it exists only so that one load generator can measure both servers the same way.
"""
