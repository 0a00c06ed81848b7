"""The baseline: accepted findings (``records``), the file that keeps them (``file``), and the
workflows that create, update and audit it (``audit``)."""
