"""copera-secretscan: find Copera API tokens (every kind in ``kinds.py``) before git spreads them.

The library API is the engine: ``scan_bytes(data, Origin(path), Ruleset())`` returns findings and
imports neither click nor git.
"""

__version__ = "0.1.0"
