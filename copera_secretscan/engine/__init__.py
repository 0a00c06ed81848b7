"""The engine: bytes in, findings out. It knows nothing of git, files, settings or click.

``scan`` holds the entry points (``scan_bytes``, ``scan_stream``); ``rules`` the patterns built
from the kinds table; ``search``, ``boundary``, ``heuristics``, ``positions`` and ``decoding``
what one search needs. Empty on purpose: importing one module must not load the others.
"""
