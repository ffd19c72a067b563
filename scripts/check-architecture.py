#!/usr/bin/env python3
"""docs/ARCHITECTURE.md's table "Crates and what they may depend on" against `cargo metadata`.

Fails when a workspace crate has no row, or depends directly (normal or build dependencies) on a workspace crate
its row does not allow. Dev-dependencies are free: tests may start the real services.
"""
import json
import re
import subprocess
import sys

DOC = "docs/ARCHITECTURE.md"


def table_rows(text):
    section = text.split("## Crates and what they may depend on", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            yield cells


def main():
    metadata = json.loads(
        subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"])
    )
    members = {p["name"]: p for p in metadata["packages"]}
    allowed = {}
    for crates, may, _never in table_rows(open(DOC, encoding="utf-8").read()):
        names = [n for n in re.findall(r"`([^`]+)`", crates) if n in members]
        everything = may.startswith("everything")
        permitted = {n for n in re.findall(r"`([^`]+)`", may) if n in members}
        for name in names:
            allowed[name] = None if everything else permitted
    problems = []
    for name, package in sorted(members.items()):
        if name not in allowed:
            problems.append(f"{name} has no row in {DOC}")
            continue
        if allowed[name] is None:
            continue
        for dep in package["dependencies"]:
            if dep["name"] in members and dep["kind"] in (None, "build") and dep["name"] not in allowed[name]:
                problems.append(f"{name} depends on {dep['name']}, which its row in {DOC} does not allow")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"architecture: {len(members)} crates match the dependency table of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
