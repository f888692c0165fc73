"""Files under the media root: every path a client names or a record holds must stay inside it."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from flask import current_app

from app.errors import ApiError


def media_root() -> Path:
    """The media folder of this app (created on first use)."""
    root = current_app.config["POSEQUEUE"].effective_media_root
    (root / "videos").mkdir(parents=True, exist_ok=True)
    return root


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative`` with every symlink resolved, or ValueError if that leaves ``root``.

    Catches ``..``, absolute paths and symlinks pointing out of the root; the
    check is on the resolved path, so a link made later cannot slip past a
    string test.
    """
    if not relative or "\x00" in relative:
        raise ValueError("empty path")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise ValueError("path leaves the media root")
    real_root = Path(os.path.realpath(root))
    try:
        target = Path(os.path.realpath(real_root / pure))
    except OSError as exc:  # a name too long for the file system, a link loop: not a usable path
        raise ValueError(f"unusable path ({exc.strerror})") from None
    if target != real_root and real_root not in target.parents:
        raise ValueError("path leaves the media root")
    return target


def media_path(relative: str, field: str) -> str:
    """A client-given path, checked to resolve inside the media root; returned relative to it (400 otherwise).

    The file need not exist yet (a recording may be registered before its video is copied in).
    """
    root = media_root()
    try:
        target = resolve_inside(root, relative)
    except ValueError:
        raise ApiError(400, "invalid", "The path must name a file inside the media folder, relative to it "
                                       "(no '..', no absolute path, no link leading out).",
                       fields={field: ["Not a path inside the media folder."]}) from None
    try:
        is_dir = target.is_dir()
    except OSError:
        raise ApiError(400, "invalid", "The path cannot be used in the media folder (a name is too long).",
                       fields={field: ["Not a usable path."]}) from None
    if is_dir:
        raise ApiError(400, "invalid", f"{relative!r} is a folder; name a file.", fields={field: ["Not a file."]})
    return str(target.relative_to(Path(os.path.realpath(root))))


def stored_file(relative: str) -> Path:
    """The file a record points at, refusing one that resolves outside the media root (404)."""
    try:
        return resolve_inside(media_root(), relative)
    except ValueError:
        raise ApiError(404, "file_missing", "The file of this record is not in the media folder.") from None
