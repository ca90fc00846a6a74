"""Small, reliable file operations for the grader's own state (never for running learner code).

Everything here assumes the file may be hostile or damaged: a symlink, a FIFO, a device, half
written, not UTF-8, deeply nested JSON, a name that is not valid Unicode. Nothing blocks,
nothing follows a link, and nothing raises for a bad file except where the caller asks.
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, Callable

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# A clock a few minutes ahead of ours is a slow NTP sync, not a forged timestamp.
CLOCK_SKEW = dt.timedelta(minutes=5)
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotRegularFile(OSError):
    """A path where a regular file was expected is a link, FIFO, device, socket or folder."""


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path) -> int:
    """Open ``path`` read-only as a regular file and return the descriptor.

    O_NOFOLLOW refuses a symlink as the last component; O_NONBLOCK makes opening a FIFO return
    at once instead of waiting for a writer; the fstat after opening (not a stat before it)
    decides, so swapping the file for something else in between changes nothing."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFile(f"{Path(path).name} is {kind_of(mode)}, not a regular file")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile(f"{Path(path).name} is a symbolic link, not a regular file") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(f"{Path(path).name} is {kind_of(mode)}, not a regular file")
    return fd


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (else NotRegularFile / ValueError)."""
    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ValueError(f"{Path(path).name} is {size / 2**20:.1f} MB (at most {max_bytes / 2**20:g} MB)")
        chunks, total = [], 0
        while total <= max_bytes:
            block = os.read(fd, 2**20)
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > max_bytes:
            raise ValueError(f"{Path(path).name} grew past {max_bytes / 2**20:g} MB while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temporary file, fsync and rename: a crash or a full disk leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(clean_text(data).encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_json(path: Path, max_bytes: int = 64 * 2**20) -> Any:
    """Parsed JSON, or None when the file is missing, not regular, too big, half written, not
    UTF-8 or nested too deeply to parse. The caller checks the shape."""
    try:
        return json.loads(read_regular(path, max_bytes).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def dump_json(obj: Any) -> str:
    """JSON the grader writes: ASCII only, so any text the learner put in survives any locale."""
    return json.dumps(clean(obj), indent=1, ensure_ascii=True, allow_nan=True, default=repr)


# ----------------------------------------------------------------------------------------
# Text that may not be valid Unicode.
# ----------------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """``text`` with lone surrogates (from undecodable bytes or a JSON "\\udXXX") replaced by
    U+FFFD, so it can be written as UTF-8 anywhere (files, sqlite, HTML)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def clean(obj: Any, depth: int = 0) -> Any:
    """A JSON-able copy of ``obj`` with every string cleaned; nesting past 200 levels is cut."""
    if depth > 200:
        return "<nested too deeply>"
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(str(k)): clean(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v, depth + 1) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    return clean_text(repr(obj))


def shown(name: str) -> str:
    """A name as it can be printed: itself if it is printable Unicode, else an escaped form."""
    if name.isprintable():
        try:
            name.encode("utf-8")
            return name
        except UnicodeEncodeError:
            pass
    return ascii(name)


def safe_log(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` that never raises for the text it is given (a terminal in Latin-1, a lone surrogate)."""
    def write(message: str) -> None:
        message = clean_text(message)
        try:
            log(message)
        except UnicodeEncodeError:
            log(message.encode("ascii", "backslashreplace").decode("ascii"))
    return write


# ----------------------------------------------------------------------------------------
# Submissions on disk.
# ----------------------------------------------------------------------------------------
def submission_digest(folder: Path) -> str:
    """Hash of the regular files in a collected submission (names and contents)."""
    h = hashlib.sha256()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False):
            continue
        h.update(os.fsencode(entry.name) + b"\0")
        fd = open_regular(Path(entry.path))
        try:
            for block in iter(lambda: os.read(fd, 2**20), b""):
                h.update(block)
        finally:
            os.close(fd)
    return h.hexdigest()


def parse_timestamp(text: str) -> dt.datetime | None:
    text = text.replace(" UTC", "").strip()
    for fmt in (TIMESTAMP_FORMAT, "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def read_timestamp(folder: Path) -> dt.datetime | None:
    """A submission's timestamp.txt (nbgrader's layout), or None if absent or unreadable."""
    try:
        return parse_timestamp(read_regular(Path(folder) / "timestamp.txt", 4096).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None


def format_timestamp(stamp: dt.datetime) -> str:
    return stamp.strftime(TIMESTAMP_FORMAT) + " UTC"


def utcnow() -> dt.datetime:
    """Naive UTC, as nbgrader stores timestamps."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def in_future(stamp: dt.datetime, now: dt.datetime | None = None) -> bool:
    return stamp > (now or utcnow()) + CLOCK_SKEW
