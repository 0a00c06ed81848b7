"""The command line: ``main`` holds the click group, the ``scan`` command and the exit codes;
``baseline`` and ``config`` the other commands; ``args`` what arguments mean; ``common`` what
the commands share; ``terminal`` progress and colour."""
