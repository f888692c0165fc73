"""Uploads stream to a file under the media root, never whole into memory."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Flask, Request, current_app, g


class StreamingRequest(Request):
    """Writes multipart file parts straight to ``<media>/incoming/`` as they arrive."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        folder = current_app.config["POSEQUEUE"].effective_media_root / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("w+b", dir=folder, prefix="upload-", delete=False)
        g.setdefault("upload_paths", []).append(handle.name)
        return handle


def claim_upload(file_storage) -> Path:
    """The path of an uploaded part's temporary file; the caller now owns it."""
    file_storage.stream.flush()
    path = Path(file_storage.stream.name)
    g.upload_paths.remove(str(path))
    return path


def init_app(app: Flask) -> None:
    """Use streaming uploads, cap their size, and delete what no handler claimed."""
    config = app.config["POSEQUEUE"]
    app.request_class = StreamingRequest
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_bytes
    # Form fields other than files stay small.
    app.config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024

    @app.teardown_request
    def _remove_unclaimed(exc):
        for name in g.pop("upload_paths", []):
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
