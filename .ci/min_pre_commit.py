"""Print the oldest pre-commit our hooks claim to support, read from .pre-commit-hooks.yaml.

The manifest's `minimum_pre_commit_version` is the one place that fact lives; `.ci/run`
installs exactly this version to prove it, so the claim and the proof cannot drift apart.
The highest minimum across hooks wins: a user of every hook needs that one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def minimum_pre_commit_version(manifest: Path = MANIFEST) -> str:
    hooks = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    versions = {str(hook.get("minimum_pre_commit_version", "0")) for hook in hooks}
    return max(versions, key=version_key)


if __name__ == "__main__":
    sys.stdout.write(minimum_pre_commit_version() + "\n")
