"""The command line: ``main`` holds the click group, the ``scan`` command and the exit codes;
``baseline`` the ``config`` and ``baseline`` commands; ``args`` what arguments mean; ``common``
what commands share; ``terminal`` progress and colour."""
