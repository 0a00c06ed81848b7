"""Settings: where the config file is (``locate``), what it says (``file``), and the settings a
scan runs with (``settings``). Empty on purpose: the lean hook path imports ``locate`` alone.
"""
