"""Write a file next to its destination and move it into place only on success."""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Iterator


def temp_path_for(dst: str | os.PathLike, suffix: str = "") -> str:
    """Create an empty, hidden temp file in ``dst``'s folder and return its path.

    The name starts with ``.<dst name>.`` and ends with ``.part`` plus
    ``suffix`` (tools such as ffmpeg and OpenCV pick the format from it).
    """
    dst = os.path.abspath(os.fspath(dst))
    folder, name = os.path.split(dst)
    fd, path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part" + suffix, dir=folder)
    os.close(fd)
    return path


def discard(path: str) -> None:
    """Remove ``path`` if it exists; never raise."""
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike, suffix: str = "") -> Iterator[str]:
    """Yield a temp path; on success ``os.replace`` it onto ``dst``.

    On any exception (including one raised by a progress callback) the temp
    file is removed and ``dst`` is left as it was.
    """
    tmp = temp_path_for(dst, suffix)
    try:
        yield tmp
        os.replace(tmp, os.fspath(dst))
    finally:
        discard(tmp)
