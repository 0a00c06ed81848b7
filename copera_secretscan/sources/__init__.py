"""Where scanned bytes come from: files and directories, standard input, and git (the index,
history, ranges, pushes, commit messages). Sources only produce; the pipeline scans.

Empty on purpose: the lean hook path imports ``gitenv`` and ``readfile`` alone.
"""
