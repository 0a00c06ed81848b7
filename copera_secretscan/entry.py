"""``copera-secretscan``: the console script, with a lean path for ``scan --staged``.

A plain ``.git/hooks/pre-commit`` that runs ``copera-secretscan scan --staged`` pays for every
import on every commit, and click alone costs more than the interpreter start. The common
answer — no staged blob contains the three bytes every Copera token starts with — needs only
``os``, ``sys`` and ``subprocess``: list the staged blobs, read them in one ``cat-file`` batch,
search for the anchor. This is the one module besides ``git.py`` that runs git, because
importing ``git.py`` would bring ``typing`` and friends along; both start git with
:func:`.gitenv.git_env`. Anything else (a candidate, a
config file, another option, any git error) goes to the full CLI, which prints and exits the
same way, so the fast path can only ever say what the full scan would say.
"""

from __future__ import annotations

import os
import subprocess

from .fastpath import ANCHOR, ambiguous, config_may_apply, guarded, say_clean, stream_clean
from .sources.gitenv import STAGED_DIFF, git_env

FAST_ARGS = {"--staged", "--quiet", "-q"}
MAX_BLOBS = 1000  # ids we can write to cat-file's stdin before reading without a feeder thread


def main(argv: list[str] | None = None) -> int:
    return guarded(_run, argv)


def _run(args: list[str]) -> int:
    if _fast_eligible(args):
        count = staged_clean_count()
        if count is not None:
            return say_clean(args, count)
    from .cli.main import main as cli_main

    return cli_main(args)


def _fast_eligible(args: list[str]) -> bool:
    if args[:1] != ["scan"] or "--staged" not in args or not set(args[1:]) <= FAST_ARGS:
        return False
    if any(ambiguous(arg) for arg in args[1:]):  # a file named ``-q`` here: the CLI refuses
        return False
    return not config_may_apply(os.getcwd())


def staged_clean_count() -> int | None:
    """How many staged files were read, when none can hold a token; None means "look closer"."""
    env = git_env(keep_index=True)
    try:
        diff = subprocess.run(
            ["git", *STAGED_DIFF.split()], env=env, capture_output=True, stdin=subprocess.DEVNULL
        )
    except OSError:
        return None
    blobs = _staged_blob_ids(diff.stdout)
    if diff.returncode != 0 or blobs is None or len(blobs) > MAX_BLOBS:
        return None
    if not blobs:
        return 0
    return len(blobs) if _all_clean(blobs, env) else None


def _staged_blob_ids(raw: bytes) -> list[str] | None:
    fields = raw.split(b"\0")
    if fields[-1]:
        return None
    ids = []
    for meta, path in zip(fields[0:-1:2], fields[1:-1:2]):
        parts = meta.split()
        if len(parts) < 4 or not meta.startswith(b":"):
            return None  # not the raw diff we asked for: let the full scanner say why
        if ANCHOR in path:
            return None  # a token may be in the name: the full scanner reports names
        if parts[1] != b"160000":  # a gitlink: the submodule's own hooks guard its content
            ids.append(parts[3].decode("ascii"))
    return ids


def _all_clean(blobs: list[str], env: dict[str, str]) -> bool:
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("".join(f"{blob}\n" for blob in blobs).encode("ascii"))
        proc.stdin.close()
    except OSError:  # git died first (a broken repository): the full scanner says why
        clean = False
    else:
        clean = all(_blob_clean(proc) for _ in blobs)
    proc.kill()
    proc.wait()
    return clean


def _blob_clean(proc: subprocess.Popen[bytes]) -> bool:
    """Read one ``cat-file --batch`` entry; False at the first anchor or anything unexpected."""
    stream = proc.stdout
    assert stream is not None
    header = stream.readline().split()
    if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
        return False
    return stream_clean(stream.read, int(header[2])) and stream.read(1) == b"\n"
