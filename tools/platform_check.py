"""Which platforms the pinned requirements install on, asked of the package registry.

For each platform and Python version, pip resolves ``requirements.txt`` with binary wheels only
(``pip install --dry-run --only-binary=:all: --platform TAG --python-version V``), as a user on
that platform would get them. pip evaluates environment markers against the machine it runs on,
not the target, so each requirement's marker is evaluated here against the target first and the
lines that do not apply are dropped. Needs the registry (network); not part of the tests. Reads
the public index only (``--isolated``, no pip configuration), so a local mirror cannot make a
platform look supported.

    python tools/platform_check.py            # the table in the README
    python tools/platform_check.py --python 3.12
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[1]

# name: (pip --platform tags, the marker environment of that platform)
PLATFORMS = {
    "Linux x86-64": (
        [f"manylinux_2_{n}_x86_64" for n in range(39, 16, -1)] + ["manylinux2014_x86_64"],
        {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"},
    ),
    "Linux aarch64": (
        [f"manylinux_2_{n}_aarch64" for n in range(39, 16, -1)] + ["manylinux2014_aarch64"],
        {"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux"},
    ),
    "macOS arm64": (
        [f"macosx_{v}_0_arm64" for v in range(15, 10, -1)],
        {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"},
    ),
    "macOS x86-64": (
        [f"macosx_{v}_0_x86_64" for v in range(15, 9, -1)] + ["macosx_10_15_x86_64"],
        {"sys_platform": "darwin", "platform_machine": "x86_64", "platform_system": "Darwin"},
    ),
    "Windows amd64": (
        ["win_amd64"],
        {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"},
    ),
}


def requirements_for(environment: dict[str, str], python: str) -> list[str]:
    """The lines of requirements.txt that apply on the target, markers removed."""
    target = {"python_version": python, "python_full_version": f"{python}.0"} | environment
    lines = []
    for raw in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(target):
            requirement.marker = None
            lines.append(str(requirement))
    return lines


def resolve(tags: list[str], lines: list[str], python: str) -> tuple[bool, str]:
    """Ask pip to resolve ``lines`` for the target; (success, the reason when it fails)."""
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # --isolated and no config file: the public index alone, not a mirror this machine may have.
        command = [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--quiet"]
        command += ["--ignore-installed"]
        command += ["--only-binary=:all:", "--python-version", python, "--target", folder + "/t"]
        for tag in tags:
            command += ["--platform", tag]
        command += ["-r", str(requirements)]
        environment = dict(os.environ, PIP_CONFIG_FILE=os.devnull)
        completed = subprocess.run(
            command, capture_output=True, encoding="utf-8", check=False, env=environment
        )
    if completed.returncode == 0:
        return True, ""
    errors = [line for line in completed.stderr.splitlines() if line.startswith("ERROR")]
    return False, (errors[0] if errors else completed.stderr.strip()[-300:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="e.g. 3.11 (repeatable; default 3.11 and 3.13)")
    args = parser.parse_args(argv)
    pythons = args.python or ["3.11", "3.13"]
    print("| platform | " + " | ".join(f"Python {p}" for p in pythons) + " |")
    print("| --- | " + " | ".join("---" for _ in pythons) + " |")
    reasons = []
    for name, (tags, environment) in PLATFORMS.items():
        cells = []
        for python in pythons:
            ok, reason = resolve(tags, requirements_for(environment, python), python)
            cells.append("installs" if ok else "no")
            if not ok:
                reasons.append(f"{name}, Python {python}: {reason}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    for reason in reasons:
        print(reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
