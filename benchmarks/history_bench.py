"""How ``scan --history`` and ``scan --staged`` compare with git's own floor, as ratios in one run.

Builds repositories (``--work``, default ``benchmarks/.work/history/``; ``--reuse`` keeps them)
with ``git fast-import``, deterministic, a few tens of seconds: 1,500 text files in 100
directories, from a few hundred bytes to tens of kB (median ~3 kB), edited a few lines at a time,
plus one 16 MiB binary; one token added then removed and one in a commit message, so provenance
runs too. Then, in rounds that interleave the commands (medians), it prints:

* ``scan --history`` against ``git cat-file --batch-all-objects --batch`` (target <= 1.8x) and
  ``git log -p --all``, their output read through a pipe (``| wc -c``) as a scanner reads it;
* the same content committed as N and 10 x N commits (target: cost follows unique blob bytes);
* with ``--before BIN``, another build's ``scan --history`` in the same rounds;
* ``scan --staged`` with 10 changed files against ``python -c pass`` (target <= 3x);
* peak RSS of the history scan: the Python process, and the largest git it started.

Run: ``python benchmarks/history_bench.py [--commits 4000] [--runs 11] [--before BIN]``.
Not a timed test.
"""

from __future__ import annotations

import argparse
import random
import shutil
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

from _common import Job, measure, median_seconds, print_table, ratio_row

WORK = Path(__file__).resolve().parent / ".work" / "history"  # .work is shared; ours alone
BIN = Path(sys.executable).parent
SCANNER = str(BIN / "copera-secretscan")
SCAN = ["scan", "--history", "--quiet"]
WORDS = [
    "".join(random.Random(n).choice(string.ascii_lowercase) for _ in range(2 + n % 9))
    for n in range(3000)
] + ["def", "return", "self", "import", "if", "else", "for", "in", "None", "=", "(", ")", ":"]
FILES, DIRS, GROUP = 1500, 100, 10
Change = List[Tuple[str, bytes]]


def text(rng: random.Random, lines: int) -> List[str]:
    return [
        " " * rng.choice((0, 4, 8)) + " ".join(rng.choices(WORDS, k=rng.randint(2, 12)))
        for _ in range(lines)
    ]


def fake_token(rng: random.Random) -> str:
    return "cp_pat_" + "".join(rng.choices(string.ascii_letters + string.digits, k=36))


def change_sets(commits: int, seed: int) -> Iterator[Tuple[Change, str]]:
    """(files written, message) per change set; paths never repeat within a window of GROUP, so
    grouping GROUP change sets per commit keeps every blob (same content, fewer commits)."""
    rng = random.Random(seed)
    token = fake_token(rng)
    paths = [f"src/pkg{n % DIRS}/module_{n}.py" for n in range(FILES)]
    files = {path: text(rng, int(rng.lognormvariate(4.2, 0.8)) + 5) for path in paths}
    yield [(p, "\n".join(files[p]).encode()) for p in paths], "initial import"
    yield [("assets/blob.bin", random.Random(seed).randbytes(16 << 20))], "add binary asset"
    token_path = ""
    for window in range(0, commits - 2, GROUP):
        chosen = rng.sample(paths, 3 * GROUP)
        for i in range(min(GROUP, commits - 2 - window)):
            n = window + i
            if n == 2000 and token_path:  # remove the token, without repeating a path in a window
                at = chosen.index(token_path) if token_path in chosen else 3 * i
                chosen[at], chosen[3 * i] = chosen[3 * i], token_path
            change = []
            for path in chosen[3 * i : 3 * i + rng.randint(1, 3)]:
                lines = files[path]
                for _ in range(rng.randint(1, 4)):
                    lines[rng.randrange(len(lines))] = text(rng, 1)[0]
                if n == 100 and not token_path:
                    token_path = path
                    lines.append(f"API_TOKEN = '{token}'")
                if n == 2000 and path == token_path:
                    files[path] = lines = [x for x in lines if "API_TOKEN" not in x]
                change.append((path, "\n".join(lines).encode()))
            yield change, (f"change {n}" if n != 500 else f"debug with {token}\n\nsorry")


def fast_import(repo: Path, commits: int, group: int, seed: int) -> None:
    """Write the change sets as ``commits`` commits (``group`` change sets per commit)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    git(repo, "config", "gc.auto", "0")  # a detached auto-gc would race our repack
    proc = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    batch: Change = []
    messages: List[str] = []
    count = 0
    for index, (change, message) in enumerate(change_sets(commits, seed)):
        batch.extend(change)
        messages.append(message)
        if index < 2 or len(messages) == group:
            proc.stdin.write(commit_record(count, batch, "\n".join(messages)))
            batch, messages, count = [], [], count + 1
    if batch:
        proc.stdin.write(commit_record(count, batch, "\n".join(messages)))
    proc.stdin.close()
    assert proc.wait() == 0
    git(repo, "repack", "-adq")
    git(repo, "checkout", "-q", "-f", "main")


def commit_record(n: int, files: Change, message: str) -> bytes:
    stamp = 1_600_000_000 + n * 600
    head = f"commit refs/heads/main\nmark :{n + 1}\n"
    head += f"author Dev <dev@example.com> {stamp} +0000\n"
    head += f"committer Dev <dev@example.com> {stamp} +0000\n"
    body = message.encode()
    out = [head.encode(), b"data %d\n" % len(body), body, b"\n"]
    if n:
        out.append(b"from :%d\n" % n)
    for path, data in files:
        out += [b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)), data, b"\n"]
    return b"".join(out)


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True).stdout


def blob_bytes(repo: Path) -> Tuple[int, int]:
    """(unique blobs, their total size) in the object store."""
    out = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)")
    sizes = [int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("blob")]
    return len(sizes), sum(sizes)


def peak_rss(repo: Path) -> Tuple[float, float]:
    """(scanner process, largest git child) peak RSS in MiB.

    Linux carries ``ru_maxrss`` across ``exec`` from the forked parent's memory, and this
    process holds the generated repository, so the probe is started by a small ``sh`` instead.
    The report goes to a file beside the repository, never to ``/dev/null``: a scanner from
    before 0.2 renamed its report over the target, which as root replaces the device.
    """
    report = repo.parent / f"{repo.name}-report.json"
    probe = (
        "import resource, sys; from copera_secretscan.quick import main; "
        f"main(['scan', '--history', '--quiet', '--format', 'json', '--output', {str(report)!r}]); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    launcher = ["sh", "-c", '"$0" -c "$1"; exit $?', sys.executable, probe]
    out = subprocess.run(launcher, cwd=repo, capture_output=True, text=True)
    own, child = out.stdout.split()
    return int(own) / 1024, int(child) / 1024


def stage_ten(repo: Path) -> None:
    for path in sorted(repo.glob("src/pkg1/*.py"))[:10]:
        path.write_text(path.read_text() + "\n# edited\n")
    git(repo, "add", "src/pkg1")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=11, help="interleaved rounds (medians)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the repositories go")
    parser.add_argument("--reuse", action="store_true", help="keep repositories already built")
    parser.add_argument("--before", help="another copera-secretscan binary to compare with")
    args = parser.parse_args(argv)
    many, few = args.work / f"many-{args.commits}", args.work / f"few-{args.commits}"
    started = time.perf_counter()
    for repo, group in ((many, 1), (few, GROUP)):
        if not (args.reuse and (repo / ".git").is_dir()):
            shutil.rmtree(repo, ignore_errors=True)
            fast_import(repo, args.commits, group, seed=7)
    print(f"repositories ready in {time.perf_counter() - started:.0f} s")
    report(many, few, args.runs, args.before)
    return 0


def report(many: Path, few: Path, runs: int, before: Optional[str]) -> None:
    for repo in (many, few):
        blobs, size = blob_bytes(repo)
        commits = git(repo, "rev-list", "--count", "--all").decode().strip()
        print(f"{repo.name}: {commits} commits, {blobs} unique blobs, {size / 1e6:.1f} MB")
    history = history_rows(many, few, runs, before)
    title = f"scan --history, {runs} interleaved rounds, medians"
    print_table(title, ["what", "time", "ratio"], history)
    stage_ten(many)
    python = [sys.executable, "-c", "pass"]
    jobs: List[Job] = [(python, many), ([SCANNER, "scan", "--staged"], many)]
    t_py, t_staged = (median_seconds(r) for r in measure(jobs, 3 * runs))
    rows = [ratio_row("python -c pass", t_py, t_py), ratio_row("scan --staged", t_staged, t_py)]
    print_table("scan --staged, 10 changed files", ["what", "time", "ratio"], rows)
    own, child = peak_rss(many)
    print(f"\npeak RSS of scan --history: scanner {own:.0f} MiB, largest git {child:.0f} MiB")


def history_rows(many: Path, few: Path, runs: int, before: Optional[str]) -> List[List[str]]:
    """One interleaved run: git's floor (its output read through a pipe, as a scanner reads it),
    ``git log -p``, our scan of both repositories, and ``before``'s scan when given."""
    floor = "git cat-file --batch-all-objects --batch | wc -c"
    jobs: List[Job] = [
        (["sh", "-c", floor], many),
        ([SCANNER, *SCAN], many),
        (["sh", "-c", "git log -p --all | wc -c"], many),
        ([SCANNER, *SCAN], few),
    ]
    if before:
        jobs.append(([before, *SCAN], many))
    t = [median_seconds(r) for r in measure(jobs, runs)]
    rows = [
        ratio_row("cat-file --batch-all-objects --batch | wc -c", t[0], t[0]),
        ratio_row("scan --history", t[1], t[0]),
        ratio_row("git log -p --all | wc -c", t[2], t[0]),
        ratio_row("scan --history, 10x fewer commits, same blobs", t[3], t[0]),
    ]
    if before:
        rows.append(ratio_row(f"before: {before} scan --history", t[4], t[0]))
        rows.append(["after / before", "", f"{t[1] / t[4]:.2f}x"])
    rows.append(["many / few commits", "", f"{t[1] / t[3]:.2f}x"])
    return rows


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
