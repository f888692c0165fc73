"""An optional user model that replaces the built-in classifier.

Accepted format (``WORKOUT_MODEL_PATH``): an **ONNX** file, run with
``onnxruntime`` (install it to use a model; it is not needed otherwise).

* input: one float32 tensor of shape ``[1, T, 33, 4]`` — the last ``T``
  analysed poses, oldest first, each MediaPipe's 33 landmarks as
  ``x, y, z, visibility`` (normalised image coordinates). ``T`` is read from
  the model's input shape (a fixed dimension); a dynamic one defaults to 30.
* output: the first output, shape ``[1, C]``: class scores (probabilities or
  logits; a softmax is applied when they do not sum to 1).
* class names: the model's metadata property ``classes`` (comma-separated) or
  a sidecar ``<model>.json`` ``{"classes": [...]}``. Names the analyser knows
  (``push-up``, ``squat``, ... see :data:`motion.workout.exercises.EXERCISES`)
  get reps counted and form checked; other names are shown as they are.

:func:`load_model` never raises for a bad model: it returns a
:class:`ModelStatus` saying what went wrong, so the caller can send a
``system`` message and carry on with the built-in classifier.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_WINDOW = 30


@dataclass
class UserModel:
    """A loaded ONNX classifier over a window of poses."""

    session: Any
    input_name: str
    classes: list[str]
    window: int = DEFAULT_WINDOW

    def predict(self, poses: np.ndarray) -> tuple[str, float]:
        """Label and confidence for ``poses`` of shape ``(window, 33, 4)``."""
        out = self.session.run(None, {self.input_name: poses[None].astype(np.float32)})[0]
        scores = np.asarray(out, dtype=np.float64).reshape(-1)
        if scores.min() < 0 or abs(scores.sum() - 1.0) > 1e-3:
            e = np.exp(scores - scores.max())
            scores = e / e.sum()
        i = int(scores.argmax())
        return self.classes[i], float(scores[i])


@dataclass
class ModelStatus:
    """The outcome of :func:`load_model`: ``model`` is None unless it loaded."""

    loaded: bool
    message: str
    model: UserModel | None = None


def load_model(path: str | os.PathLike | None) -> ModelStatus:
    """Load a user model, or say clearly why the built-in classifier is used."""
    if not path:
        return ModelStatus(False, "No user model configured: using the built-in classifier")
    p = Path(path)
    if not p.is_file():
        return ModelStatus(False, f"Model file {p.name!r} not found: using the built-in classifier")
    try:
        import onnxruntime as ort
    except ImportError:
        return ModelStatus(False, "onnxruntime is not installed, so the model cannot run: using the built-in classifier")
    try:
        sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = list(inp.shape)
        if len(shape) != 4 or shape[2:] != [33, 4]:
            return ModelStatus(False, f"Model input shape {shape} is not [1, T, 33, 4]: using the built-in classifier")
        window = shape[1] if isinstance(shape[1], int) and shape[1] > 0 else DEFAULT_WINDOW
        classes = _classes(sess, p)
        n_out = sess.get_outputs()[0].shape[-1]
        if not classes or (isinstance(n_out, int) and n_out != len(classes)):
            return ModelStatus(False, "Model has no class names matching its output: using the built-in classifier")
    except Exception as exc:  # onnxruntime raises its own, undocumented types for broken files
        return ModelStatus(False, f"Model could not be loaded ({exc.__class__.__name__}): using the built-in classifier")
    return ModelStatus(True, f"User model {p.name!r} loaded ({len(classes)} classes)",
                       UserModel(sess, inp.name, classes, window))


def _classes(sess: Any, path: Path) -> list[str]:
    meta = sess.get_modelmeta().custom_metadata_map or {}
    if meta.get("classes"):
        return [c.strip() for c in meta["classes"].split(",") if c.strip()]
    side = path.with_suffix(".json")
    if side.is_file():
        try:
            return [str(c) for c in json.loads(side.read_text())["classes"]]
        except (ValueError, KeyError, TypeError):
            return []
    return []
