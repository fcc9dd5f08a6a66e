#!/usr/bin/env python3
"""Checks that every OpenMP parallel region in lib/ draws its team from the
thread budget (docs/reliability.md, "The thread budget").

pel sizes a region with pel_threads_for_work() or pel_get_num_threads() and
must then pass the count through pel__team_take() (or run the region through
pel__parallel_for, which does). A region whose num_threads() variable is
assigned from one of those two functions, in the same function, without any
pel__team_take() of it, escaped the budget: three regions did so after merges
of new kernels. The check is lexical and deliberately simple: counts that
arrive as parameters or struct fields are the caller's to take.

Usage: check_thread_budget.py [SOURCE_DIR]; exits 1 and lists the regions
that escape. Run by `make check`."""

import os
import re
import sys

POLICY = re.compile(r"\bpel_(threads_for_work|get_num_threads)\s*\(")
PRAGMA = re.compile(r"#\s*pragma\s+omp\s+parallel\b.*\bnum_threads\s*\(")


def num_threads_argument(line):
    """The text inside num_threads( ... ), parentheses balanced."""
    start = line.index("num_threads") + len("num_threads")
    start = line.index("(", start) + 1
    depth, i = 1, start
    while i < len(line) and depth:
        depth += {"(": 1, ")": -1}.get(line[i], 0)
        i += 1
    return line[start:i - 1].strip()


def functions(lines):
    """(first, last) line indices of each top-level function body."""
    body_start = None
    for i, line in enumerate(lines):
        if line.startswith("{") and body_start is None:
            body_start = i
        elif line.startswith("}") and body_start is not None:
            yield body_start, i
            body_start = None


def statements_assigning(body, name):
    """Statements of body (joined over lines) that assign to name."""
    text = " ".join(line.strip() for line in body)
    pattern = re.compile(r"(?:^|[;{}])\s*(?:const\s+)?(?:int\s+)?" + re.escape(name) + r"\s*=([^;]*);")
    return [m.group(1) for m in pattern.finditer(text)]


def escapes(path):
    with open(path, encoding="utf-8") as source:
        lines = source.read().splitlines()
    found = []
    for first, last in functions(lines):
        body = lines[first:last + 1]
        for offset, line in enumerate(body):
            if not PRAGMA.search(line):
                continue
            argument = num_threads_argument(line)
            where = f"{path}:{first + offset + 1}"
            if POLICY.search(argument):
                found.append(f"{where}: num_threads({argument}) is not taken from the budget")
                continue
            if not re.fullmatch(r"[A-Za-z_]\w*", argument):
                continue
            assigned = statements_assigning(body, argument)
            from_policy = [a for a in assigned if POLICY.search(a) and "pel__team_take" not in a]
            taken = [a for a in assigned if "pel__team_take" in a]
            if from_policy and not taken:
                found.append(f"{where}: {argument} comes from the thread policy without pel__team_take()")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems, regions = [], 0
    for folder, _, names in os.walk(os.path.join(root, "lib")):
        for name in sorted(names):
            if name.endswith(".c"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as source:
                    regions += sum(1 for line in source if PRAGMA.search(line))
                problems += escapes(path)
    for problem in problems:
        print(problem)
    print(f"check_thread_budget: {regions} parallel regions, {len(problems)} outside the budget")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
