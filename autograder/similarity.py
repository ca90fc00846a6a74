"""Flags for copied answers: each answer cell compared with the published solution and with the
other students' answers, after normalising names, comments, docstrings and formatting.

This is a flag for a person to read, never a score: two students can write the same obvious
three lines. The comparison is on the *shape* of the code (its AST with every identifier,
string and number replaced by a placeholder), so renaming variables, reformatting, reordering
keyword arguments' spacing or deleting comments does not hide a copy, while independently
written code that solves the problem another way (a loop instead of a vectorised call, another
decomposition) stays apart.
"""
from __future__ import annotations

import ast
import difflib
import io
import tokenize
from dataclasses import dataclass
from typing import Iterable

# Answers shorter than this (in normalised tokens) are too small to say anything about.
MIN_TOKENS = 25
THRESHOLD = 0.9


def normalise(code: str) -> list[str]:
    """The code's structure as a token list: identifiers, strings and numbers become placeholders,
    comments, docstrings and formatting disappear. Code that does not parse falls back to tokens."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _token_fallback(code)
    names: dict[str, str] = {}
    out: list[str] = []

    def visit(node: ast.AST) -> None:
        if _is_docstring(node):
            return
        out.append(type(node).__name__)
        if isinstance(node, ast.Name):
            out.append(names.setdefault(node.id, f"v{len(names)}"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(names.setdefault(node.name, f"v{len(names)}"))
        elif isinstance(node, ast.arg):
            out.append(names.setdefault(node.arg, f"v{len(names)}"))
        elif isinstance(node, ast.Attribute):
            out.append(node.attr)  # library calls (np.exp, .sum) keep their names: they are the content
        elif isinstance(node, ast.Constant):
            out.append(type(node.value).__name__)
        elif isinstance(node, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.AugAssign)):
            pass
        for child in ast.iter_child_nodes(node):
            visit(child)

    try:
        visit(tree)
    except RecursionError:
        return _token_fallback(code)
    return out


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _token_fallback(code: str) -> list[str]:
    try:
        return [tok.string if tok.type == tokenize.OP else tokenize.tok_name[tok.type]
                for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                    tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code.split()


def similarity(a: list[str], b: list[str]) -> float:
    """How alike two normalised token lists are, from 0 to 1 (difflib's ratio)."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class CopyFlag:
    student: str
    cell: str
    other: str          # "the published solution" or another student's id
    score: float
    other_source: str   # the matching code, for the instructor to read side by side

    def text(self) -> str:
        return (f"possible copy: answer {self.cell} is {self.score:.0%} similar to {self.other} "
                f"(names, comments and formatting ignored); read both before deciding")


def find_copies(answers: dict[str, dict[str, str]], solution: dict[str, str], released: dict[str, str],
                threshold: float = THRESHOLD, min_tokens: int = MIN_TOKENS) -> list[CopyFlag]:
    """Flags for one assignment.

    Inputs:
    - answers: {student: {grade_id: code}} for the code answer cells
    - solution: {grade_id: code} of the published solution (markers removed)
    - released: {grade_id: code} of the blank release (an untouched stub is never a copy)
    """
    flags: list[CopyFlag] = []
    sol = {gid: normalise(code) for gid, code in solution.items()}
    blank = {gid: normalise(code) for gid, code in released.items()}
    norm = {s: {gid: normalise(code) for gid, code in cells.items()} for s, cells in answers.items()}
    students = sorted(norm)
    for gid in sorted(sol):
        for i, student in enumerate(students):
            mine = norm[student].get(gid)
            if not mine or len(mine) < min_tokens or mine == blank.get(gid):
                continue
            score = similarity(mine, sol[gid])
            if score >= threshold:
                flags.append(CopyFlag(student, gid, "the published solution", score, solution[gid]))
            for other in students[i + 1:]:
                theirs = norm[other].get(gid)
                if not theirs or len(theirs) < min_tokens or theirs == blank.get(gid):
                    continue
                score = similarity(mine, theirs)
                if score >= threshold:
                    flags.append(CopyFlag(student, gid, other, score, answers[other][gid]))
                    flags.append(CopyFlag(other, gid, student, score, answers[student][gid]))
    return flags


def by_student(flags: Iterable[CopyFlag]) -> dict[str, list[CopyFlag]]:
    out: dict[str, list[CopyFlag]] = {}
    for flag in flags:
        out.setdefault(flag.student, []).append(flag)
    return out
