"""Collect: copy a folder of submissions into cohort/submitted/, taking only regular files.

The folder comes from a download or an LMS export, so anything may be in it: a symlink to the
solutions or to /etc/shadow, a FIFO that would block a reader forever, a device, a folder named
like a notebook, names in any encoding, a timestamp.txt from the year 2099. Each such entry is
skipped (or distrusted) with a message naming the student, and every other student is still
collected. What was skipped or distrusted is kept in .grader/collect/<assignment>.json so the
report and the CSV list those students too.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path
from typing import Any, Callable

from autograder.course import Course, student_id_problem
from autograder.files import (NotRegularFile, atomic_write, dump_json, format_timestamp, in_future, kind_of,
                              load_json, open_regular, parse_timestamp, read_regular, read_timestamp, shown,
                              safe_log, utcnow)
from autograder.grading import MAX_NOTEBOOK_BYTES


def collect_log(course: Course, assignment: str) -> dict[str, Any]:
    """{"skipped": {name: why}, "notes": {student: [note, ...]}} from earlier collects."""
    data = load_json(course.collect_log(assignment))
    data = data if isinstance(data, dict) else {}
    skipped = data.get("skipped") if isinstance(data.get("skipped"), dict) else {}
    notes = data.get("notes") if isinstance(data.get("notes"), dict) else {}
    return {"skipped": {str(k): str(v) for k, v in skipped.items()},
            "notes": {str(k): [str(n) for n in v] for k, v in notes.items() if isinstance(v, list)}}


def _read_notebook(path: Path) -> tuple[bytes, float]:
    """Bytes and mtime of a regular file; NotRegularFile/ValueError say why not."""
    fd = open_regular(path)
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{path.name} is {info.st_size / 2**20:.1f} MB; a notebook may be at most "
                         f"{MAX_NOTEBOOK_BYTES // 2**20} MB")
    return read_regular(path, MAX_NOTEBOOK_BYTES), info.st_mtime


def _entry_mode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return None


def collect(course: Course, folder: Path, assignment: str, log: Callable[[str], None] = print,
            now: dt.datetime | None = None) -> list[str]:
    """Copy a folder of submissions into submitted/. Accepts <folder>/<student>/<assignment>/*.ipynb,
    <folder>/<student>/*.ipynb or <folder>/<student>.ipynb. A resubmission replaces an older one
    (by timestamp.txt, else file time); an older one never replaces a newer one. Returns the
    students collected."""
    log = safe_log(log)
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"collect: {folder} is not a folder of submissions")
    expected = sorted(p.name for p in course.sources(assignment))
    state = collect_log(course, assignment)
    now = now or utcnow()
    collected = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue  # .DS_Store, .ipynb_checkpoints, editor files
        entry = folder / name
        mode = _entry_mode(entry)
        if mode is None:
            continue
        is_dir = stat.S_ISDIR(mode)
        if not is_dir and not name.endswith(".ipynb"):
            if stat.S_ISREG(mode):
                continue  # a README or a grades sheet beside the submissions
        student = name if is_dir or not name.endswith(".ipynb") else name[: -len(".ipynb")]
        who = shown(student)
        try:
            why, notes, got = _collect_one(course, entry, mode, student, assignment, expected, now, log)
        except Exception as exc:  # a bug or an odd filesystem must not stop the others
            why, notes, got = f"could not be collected ({type(exc).__name__}: {exc})", [], False
        if why:
            state["skipped"][who] = why
            log(f"  skipped {who}: {why}")
            continue
        state["skipped"].pop(who, None)
        if got:
            state["notes"][student] = notes
            collected.append(student)
    try:
        atomic_write(course.collect_log(assignment), dump_json(state))
    except OSError as exc:
        log(f"  could not save the collect log ({exc.strerror}); the report will not list skipped entries")
    return collected


def _collect_one(course: Course, entry: Path, mode: int, student: str, assignment: str, expected: list[str],
                 now: dt.datetime, log: Callable[[str], None]) -> tuple[str | None, list[str], bool]:
    """(why it was skipped or None, notes, whether it was collected)."""
    if problem := student_id_problem(student):
        return f"not a valid student id: {problem}", [], False
    if stat.S_ISLNK(mode):
        return f"{shown(entry.name)} is a symbolic link (only regular files and folders are collected)", [], False
    skipped: list[str] = []
    files: dict[str, tuple[bytes, float]] = {}
    stamp_dir = None
    if stat.S_ISDIR(mode):
        inner = entry / assignment
        inner_mode = _entry_mode(inner)
        if inner_mode is not None and stat.S_ISLNK(inner_mode):
            return f"{assignment} is a symbolic link (only regular files and folders are collected)", [], False
        if inner_mode is not None and stat.S_ISDIR(inner_mode):
            stamp_dir = inner
        else:
            stamp_dir = entry
        for child in sorted(os.listdir(stamp_dir)):
            if not child.endswith(".ipynb") or child.startswith("."):
                continue
            if not _printable(child):
                skipped.append(f"{shown(child)}: the file name is not printable UTF-8 text")
                continue
            try:
                files[child] = _read_notebook(stamp_dir / child)
            except (NotRegularFile, ValueError) as exc:
                skipped.append(str(exc))
            except OSError as exc:
                skipped.append(f"{shown(child)}: {exc.strerror or exc}")
    elif stat.S_ISREG(mode):
        try:
            files[expected[0]] = _read_notebook(entry)
        except (NotRegularFile, ValueError) as exc:
            skipped.append(str(exc))
    else:
        skipped.append(f"{shown(entry.name)} is {kind_of(mode)}, not a regular file")
    if not files:
        return "no notebook found" + (f" ({'; '.join(skipped)})" if skipped else ""), [], False
    notes = [f"collect skipped {why}" for why in skipped]
    for nb_name in sorted(set(files) - set(expected)):
        log(f"  {student}: extra notebook {nb_name} is kept but not graded (expected {', '.join(expected)})")
    stamp = _choose_timestamp(stamp_dir, max(mtime for _, mtime in files.values()), now, notes)
    dest = course.submitted(student, assignment)
    old = read_timestamp(dest) if dest.is_dir() else None
    if old is not None and in_future(old, now):
        notes.append(f"the previously collected submission's timestamp {old} is in the future: not trusted")
        old = None
    if old is not None and old >= stamp:
        log(f"  {student}: kept the existing submission from {old} (this one is from {stamp})")
        return None, [], False
    tmp = dest.with_name(f".{assignment}.incoming")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for nb_name, (data, _) in files.items():
        with open(tmp / nb_name, "wb") as fh:
            fh.write(data)
    (tmp / "timestamp.txt").write_text(format_timestamp(stamp))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    for note in notes:
        log(f"  {student}: {note}")
    log(f"  collected {student} ({', '.join(sorted(files))}, {stamp})")
    return None, notes, True


def _printable(name: str) -> bool:
    return shown(name) == name


def _choose_timestamp(stamp_dir: Path | None, mtime: float, now: dt.datetime, notes: list[str]) -> dt.datetime:
    """timestamp.txt if it is readable and not in the future, else the files' time if that is
    not in the future, else the time of collection. Every distrusted value becomes a note."""
    file_time = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).replace(tzinfo=None)
    if stamp_dir is not None and _entry_mode(stamp_dir / "timestamp.txt") is not None:
        try:
            text = read_regular(stamp_dir / "timestamp.txt", 4096).decode("utf-8", "replace").strip()
            stamp = parse_timestamp(text)
        except (OSError, ValueError) as exc:
            text, stamp = str(exc), None
        if stamp is None:
            notes.append(f"timestamp.txt is unreadable ({shown(text[:60])}): not used")
        elif in_future(stamp, now):
            fallback, what = (file_time, "the file time") if not in_future(file_time, now) else (now, "the time of collection")
            notes.append(f"timestamp {stamp} is in the future: not trusted; used {what} {fallback} UTC instead")
            return fallback
        else:
            return stamp
    if in_future(file_time, now):
        notes.append(f"file time {file_time} is in the future: not trusted; used the time of collection {now} UTC instead")
        return now
    return file_time
