"""Writing a file so that readers see the old content or the new one, never half of it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`.

    The rename is atomic on one file system, so a CI step reading the report (or a second
    syncverify run) never sees a truncated file. Raises OSError like `open` does.
    """
    target = Path(path)
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", delete=False,
                                         dir=target.parent or ".", prefix=f".{target.name}.",
                                         suffix=".tmp")
    try:
        with handle:
            handle.write(text)
        os.chmod(handle.name, 0o666 & ~current_umask())   # as `open(path, "w")` would
        os.replace(handle.name, target)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
