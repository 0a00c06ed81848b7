"""Recall and false alarms on tokens in disguise: one generated case per class of issue 11.

    python benchmarks/disguise_corpus.py [--seed N] [--keep DIR]

Builds a corpus of files (each positive holds one freshly generated token in one disguise;
each negative holds something that only looks like one), scans it with the installed
``copera-secretscan scan --format json``, and prints, per class, whether the token was found
where it was put and what was reported that should not have been. Exit 0 when recall is 1.00
and there is no false alarm, 1 otherwise: a quick gate for a change to the engine.
"""

from __future__ import annotations

import argparse
import base64
import codecs
import gzip
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from _common import make_token, scanner_command

Case = Tuple[str, bytes]  # (file name, content)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def wrapped(text: str, width: int, indent: str = "") -> str:
    return "\n".join(indent + text[i : i + width] for i in range(0, len(text), width))


def escaped(token: str, form: Callable[[str], str], which: str = "_") -> str:
    return "".join(form(char) if char in which else char for char in token)


def tar_of(name: str, data: bytes, mode: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_of(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def positives(token: Callable[[str], str]) -> Dict[str, Case]:
    """class -> (file name, bytes); each holds exactly one token, the expected finding."""
    t = token
    env = lambda tok: f"COPERA_TOKEN={tok}\n".encode()  # noqa: E731
    docker_auth = b64(f"deploy:{t('cp_key_')}".encode())
    docker = json.dumps({"auths": {"registry.example": {"auth": docker_auth}}})
    jwt_payload = base64.urlsafe_b64encode(json.dumps({"sub": "u", "tok": t("cp_oat_")}).encode())
    jwt = "eyJhbGciOiJIUzI1NiJ9." + jwt_payload.decode().rstrip("=") + ".c2lnbmF0dXJl"
    long_b64 = b64(("x" * 90 + " " + t("cp_pat_") + " " + "y" * 90).encode())
    return {
        "plain": ("plain.env", env(t("cp_pat_"))),
        "base64 k8s secret": (
            "secret.yaml",
            f"kind: Secret\ndata:\n  token: {b64(t('cp_pat_').encode())}\n".encode(),
        ),
        "base64 wrapped 64": ("wrapped.pem", (wrapped(long_b64, 64) + "\n").encode()),
        "base64 wrapped 76": ("mime.eml", (wrapped(long_b64, 76) + "\n").encode()),
        "base64 yaml block": (
            "block.yaml",
            ("data: |\n" + wrapped(long_b64, 60, "    ") + "\n").encode(),
        ),
        "base64url": ("url.txt", base64.urlsafe_b64encode(t("cp_key_").encode()) + b"\n"),
        "dockerconfigjson": (
            "pull.yaml",
            f"data:\n  .dockerconfigjson: {b64(docker.encode())}\n".encode(),
        ),
        "basic auth": (
            "request.http",
            f"GET /\nAuthorization: Basic {b64(('me:' + t('cp_pat_')).encode())}\n".encode(),
        ),
        "jwt": ("jwt.txt", f"Bearer {jwt}\n".encode()),
        "json \\u005f": (
            "u.json",
            ('{"t": "' + escaped(t("cp_pat_"), lambda c: "\\u005f") + '"}\n').encode(),
        ),
        "json \\u all": (
            "uall.json",
            (
                '{"t": "' + escaped(t("cp_pat_"), lambda c: f"\\u{ord(c):04x}", "cp_at") + '"}\n'
            ).encode(),
        ),
        "\\x escapes": (
            "x.c",
            ('char *t = "' + escaped(t("cp_key_"), lambda c: "\\x5f") + '";\n').encode(),
        ),
        "octal escapes": (
            "o.c",
            ('char *t = "' + escaped(t("cp_key_"), lambda c: "\\137") + '";\n').encode(),
        ),
        "percent %5F": (
            "p.log",
            ("GET /cb?token=" + escaped(t("cp_oat_"), lambda c: "%5F") + "\n").encode(),
        ),
        "percent %5f all": (
            "pall.log",
            ("next=" + escaped(t("cp_oat_"), lambda c: f"%{ord(c):02x}", "cp_oat") + "\n").encode(),
        ),
        "html &#95;": (
            "h.html",
            ("<code>" + escaped(t("cp_pat_"), lambda c: "&#95;") + "</code>\n").encode(),
        ),
        "html &#x5f;": (
            "hx.html",
            ("<p>" + escaped(t("cp_pat_"), lambda c: "&#x5f;") + "</p>\n").encode(),
        ),
        "html &lowbar;": (
            "hn.html",
            ("<p>" + escaped(t("cp_pat_"), lambda c: "&lowbar;") + "</p>\n").encode(),
        ),
        "markdown \\_": (
            "notes.md",
            ("Token: " + escaped(t("cp_pat_"), lambda c: "\\_") + "\n").encode(),
        ),
        "quoted-printable": (
            "mail.eml",
            (
                "Content-Transfer-Encoding: quoted-printable\n\nkey "
                + escaped(t("cp_key_"), lambda c: "=5F")
                + "\n"
            ).encode(),
        ),
        "hex dump": ("dump.txt", (t("cp_pat_").encode().hex() + "\n").encode()),
        "bytea": (
            "dump.sql",
            ("INSERT INTO t VALUES ('\\x" + t("cp_pat_").encode().hex() + "');\n").encode(),
        ),
        "utf-16le no bom": ("w16.txt", ("token=" + t("cp_pat_") + "\r\n").encode("utf-16-le")),
        "utf-16be no bom": ("w16be.txt", ("token=" + t("cp_pat_") + "\r\n").encode("utf-16-be")),
        "utf-16 bom": (
            "w16bom.txt",
            codecs.BOM_UTF16_LE + ("token=" + t("cp_pat_") + "\r\n").encode("utf-16-le"),
        ),
        "utf-32": ("w32.txt", ("token=" + t("cp_pat_") + "\n").encode("utf-32-le")),
        "ansi": ("color.log", f"\x1b[32m{t('cp_oat_')}\x1b[0m\n".encode()),
        "ansi in json": (
            "color.json",
            ('{"msg": "\\u001b[32m' + t("cp_oat_") + '\\u001b[0m"}\n').encode(),
        ),
        "gzip": ("app.log.gz", gzip.compress(env(t("cp_pat_")))),
        "zip deflated": ("bundle.zip", zip_of("conf/.env", env(t("cp_pat_")))),
        "zip stored": ("stored.zip", zip_of(".env", env(t("cp_key_")), zipfile.ZIP_STORED)),
        "jar": ("app.jar", zip_of("app.properties", env(t("cp_key_")))),
        "tar": ("plain.tar", tar_of("etc/.env", env(t("cp_oat_")), "w")),
        "tar.gz": ("conf.tar.gz", tar_of("etc/.env", env(t("cp_oat_")), "w:gz")),
        "tar.bz2": ("conf.tar.bz2", tar_of("etc/.env", env(t("cp_oat_")), "w:bz2")),
        "tar.xz": ("conf.tar.xz", tar_of("etc/.env", env(t("cp_oat_")), "w:xz")),
        "zip in zip": ("outer.zip", zip_of("inner.zip", zip_of(".env", env(t("cp_pat_"))))),
    }


def negatives(rng: random.Random) -> Dict[str, Case]:
    """class -> (file name, bytes) that must produce no finding."""
    placeholder = "cp_pat_your_token_here"
    blob = bytes(rng.randrange(256) for _ in range(3000))
    return {
        "base64 placeholder": (
            "doc.yaml",
            f"data:\n  token: {b64(placeholder.encode())}\n".encode(),
        ),
        "escaped placeholder": (
            "doc.json",
            ('{"t": "' + placeholder.replace("_", "\\u005f") + '"}\n').encode(),
        ),
        "percent placeholder": (
            "doc.log",
            ("t=" + placeholder.replace("_", "%5F") + "\n").encode(),
        ),
        "keyboard body": ("seq.env", b"COPERA_TOKEN=cp_pat_" + b"a1b2c3d4e5f6g7h8i9j0\n"),
        "underscore words": (
            "test_names.py",
            b'CASE = "cp_key_' + b'rejects_whitespace_inside_the_body"\n',
        ),
        "underscore words 2": ("t2.py", b"name = 'cp_pat_" + b"accepts_a_token_with_dashes'\n"),
        "random base64": ("blob.txt", (wrapped(b64(blob), 76) + "\n").encode()),
        "random binary": ("blob.bin", blob),
        "random gzip": ("blob.gz", gzip.compress(blob)),
        "placeholder in zip": ("docs.zip", zip_of("README.md", f"Set {placeholder}\n".encode())),
        "mcp prefix": ("mcp.txt", b"mcp_pat_" + b"Ab3dEf6hIj9kLm2nOp5qRs8t\n"),
        "ansi placeholder": ("c.log", f"\x1b[32m{placeholder}\x1b[0m\n".encode()),
        "utf-16 prose": ("prose16.txt", "cp_ means copy, see cp_pat_ docs\r\n".encode("utf-16-le")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    issued: List[str] = []

    def token(prefix: str) -> str:
        issued.append(make_token(rng, prefix))
        return issued[-1]

    root = args.keep or Path(tempfile.mkdtemp(prefix="disguise-"))
    root.mkdir(parents=True, exist_ok=True)
    expected: Dict[str, str] = {}
    for name, (file, data) in positives(token).items():
        (root / file).write_bytes(data)
        expected[file] = name
    for file, data in negatives(rng).values():
        (root / file).write_bytes(data)
    proc = subprocess.run(
        scanner_command("scan", "--format", "json", "--show-secrets", "."),
        cwd=root,
        capture_output=True,
        text=True,
    )
    report = json.loads(proc.stdout or "{}")
    found: Dict[str, List[dict]] = {}
    wrong: List[dict] = []  # reported where a token was, but not a token we put there
    for finding in report.get("findings", []):
        file = (finding.get("path") or "").split("!", 1)[0]
        if file in expected and finding.get("secret") not in issued:
            wrong.append(finding)
            continue
        found.setdefault(file, []).append(finding)
    missed = [name for file, name in expected.items() if not found.get(file)]
    false = {file: items for file, items in found.items() if file not in expected}
    extra = {
        file: items[1:] for file, items in found.items() if file in expected and len(items) > 1
    }
    for file, name in sorted(expected.items(), key=lambda item: item[1]):
        chain = [f.get("encoding", []) for f in found.get(file, [])]
        print(f"{'found ' if found.get(file) else 'MISSED'} {name:22s} {file:18s} {chain}")
    for file, items in sorted({**false, **extra}.items()):
        for item in items:
            where = f"{item.get('rule_id')} line {item.get('line')} {item.get('encoding')}"
            print(f"FALSE  {file}: {where}")
    recall = 1 - len(missed) / len(expected)
    for item in wrong:
        print(f"WRONG  {item.get('path')}: {item.get('secret', '')[:12]}… line {item.get('line')}")
    alarms = sum(map(len, false.values())) + sum(map(len, extra.values())) + len(wrong)
    print(
        f"\nrecall {recall:.2f} ({len(expected) - len(missed)}/{len(expected)}), "
        f"false alarms {alarms} (negatives: {len(negatives(random.Random(0)))} files)"
    )
    for line in proc.stderr.splitlines():
        print(f"stderr: {line}")
    return 0 if not missed and not alarms else 1


if __name__ == "__main__":
    sys.exit(main())
