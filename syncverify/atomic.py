"""Writing a file so that readers see the old content or the new one, never half of it."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

# A temporary name is ".<start of the name>.<8 random characters>.tmp": a file name at NAME_MAX
# (255 bytes on Linux and macOS) must still leave room for the rest of it.
TEMP_NAME_PART = 100


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write `text` to a temporary file beside the target, then rename it over the target.

    The rename is atomic on one file system, so a CI step reading the report (or a second
    syncverify run) never sees a truncated file. What is replaced is respected: a symlink is
    followed and its target written (the link stays a link), the file's mode and owner are
    kept, and a read-only file or anything but a regular file is refused (OSError, nothing
    changed). Raises OSError like `open` does.
    """
    target = Path(os.path.realpath(path))
    existing = replaced_file(target)
    handle = tempfile.NamedTemporaryFile(
        "w",
        encoding="utf-8",
        newline="",
        delete=False,
        dir=target.parent,
        prefix=f".{name_start(target.name)}.",
        suffix=".tmp",
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        keep_attributes(handle.name, existing)
        os.replace(handle.name, target)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def name_start(name: str) -> str:
    """The start of a file name, at most TEMP_NAME_PART bytes in UTF-8 (NAME_MAX counts bytes:
    60 emoji are 240)."""
    return name.encode("utf-8", "surrogateescape")[:TEMP_NAME_PART].decode("utf-8", "ignore")


def replaced_file(target: Path) -> os.stat_result | None:
    """The status of the file `target` names (None for a new path), or OSError when it must not
    be replaced: not a regular file (a FIFO, a device, a folder), or read-only."""
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, f"it is {file_kind(status.st_mode)}, not a regular file")
    # root may write anything, so the mode bits say what the owner meant, not os.access
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise OSError(errno.EACCES, "the file is read-only")
    return status


def keep_attributes(temporary: str, existing: os.stat_result | None) -> None:
    """Give the temporary file the replaced file's mode and owner (a new file: as `open` would)."""
    if existing is None:
        os.chmod(temporary, 0o666 & ~current_umask())
        return
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
        os.chown(temporary, existing.st_uid, existing.st_gid)  # PermissionError: not replaced


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
