"""How ``scan --history`` and ``scan --staged`` compare with git's own floor, as ratios in one run.

Builds repositories under ``benchmarks/.work/history/`` with ``git fast-import`` (deterministic,
a few tens of seconds): 1,500 text files in 100 directories, from a few hundred bytes to tens of kB
(median ~3 kB), edited a few lines at a time, plus one 16 MiB binary; one token added then
removed and one in a commit message, so provenance runs too. Then it prints:

* ``scan --history`` against ``git cat-file --batch-all-objects --batch`` (target <= 2.5x) and
  ``git log -p --all`` (target: faster), both to /dev/null;
* the same content committed as N and 10 x N commits (target: cost follows unique blob bytes);
* ``scan --staged`` with 10 changed files against ``python -c pass`` (target <= 3x);
* peak RSS of the history scan: the Python process, and the largest git it started.

Run: ``python benchmarks/history_bench.py [--commits 6000] [--runs 5]``. Not a timed test.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

WORK = Path(__file__).resolve().parent / ".work" / "history"  # .work is shared; ours alone
BIN = Path(sys.executable).parent
SCANNER = str(BIN / "copera-secretscan")
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


def timed(cmd: Sequence[str], cwd: Path, runs: int) -> float:
    """Median wall time of ``runs`` runs, output to /dev/null."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


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


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv or None)
    shutil.rmtree(WORK, ignore_errors=True)
    many, few = WORK / "many", WORK / "few"
    started = time.perf_counter()
    fast_import(many, args.commits, 1, seed=7)
    fast_import(few, args.commits, GROUP, seed=7)
    print(f"built two repositories in {time.perf_counter() - started:.0f} s")
    report(many, few, args.runs)
    return 0


def report(many: Path, few: Path, runs: int) -> None:
    for repo in (many, few):
        blobs, size = blob_bytes(repo)
        commits = git(repo, "rev-list", "--count", "--all").decode().strip()
        print(f"{repo.name}: {commits} commits, {blobs} unique blobs, {size / 1e6:.1f} MB")
    scan = [SCANNER, "scan", "--history", "--quiet"]
    t_scan = timed(scan, many, runs)
    t_cat = timed(["git", "cat-file", "--batch-all-objects", "--batch"], many, runs)
    t_log = timed(["git", "log", "-p", "--all"], many, runs)
    print(f"scan --history          {t_scan:7.3f} s")
    print(f"cat-file --batch-all    {t_cat:7.3f} s   scan / cat-file = {t_scan / t_cat:.2f}x")
    print(f"log -p --all            {t_log:7.3f} s   scan / log -p   = {t_scan / t_log:.2f}x")
    t_few = timed(scan, few, runs)
    print(f"10x fewer commits, same blobs: {t_few:.3f} s; many / few = {t_scan / t_few:.2f}x")
    stage_ten(many)
    t_py = timed([sys.executable, "-c", "pass"], many, 30)
    t_staged = timed([SCANNER, "scan", "--staged"], many, 30)
    print(f"scan --staged (10 files) {t_staged * 1e3:6.1f} ms; python -c pass {t_py * 1e3:.1f} ms;")
    print(f"  ratio {t_staged / t_py:.2f}x")
    own, child = peak_rss(many)
    print(f"peak RSS of scan --history: scanner {own:.0f} MiB, largest git {child:.0f} MiB")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
