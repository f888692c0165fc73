"""A spatial index of a wall's holds: which holds are near a point, and how near.

Distances are to the hold's *shape* (0 inside it), never to its centre. The
STRtree answers "what is within r of p" by looking only at nearby boxes, so
the cost of a query depends on how many holds are near, not on the wall size.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import shapely
from shapely import STRtree

from motion.climbing.holds import Hold, Wall


class HoldIndex:
    """Nearby holds of a point, by distance to their shapes."""

    def __init__(self, holds: Sequence[Hold]) -> None:
        self.holds: tuple[Hold, ...] = tuple(holds)
        self.ids: tuple[str, ...] = tuple(h.id for h in self.holds)
        self._geoms = np.array([h.shape for h in self.holds], dtype=object)
        for g in self._geoms:
            shapely.prepare(g)
        self._tree = STRtree(self._geoms)

    @classmethod
    def for_wall(cls, wall: Wall) -> "HoldIndex":
        """The index of every hold of a wall."""
        return cls(wall.holds)

    def __len__(self) -> int:
        return len(self.holds)

    def within(self, x: float, y: float, radius: float) -> dict[str, float]:
        """``{hold_id: distance}`` for every hold whose shape is within ``radius`` of (x, y).

        A point inside a hold is at distance 0.
        """
        if radius < 0 or not np.isfinite(x) or not np.isfinite(y):
            return {}
        point = shapely.Point(x, y)
        idx = self._tree.query(point, predicate="dwithin", distance=radius)
        if len(idx) == 0:
            return {}
        dist = shapely.distance(self._geoms[idx], point)
        return {self.ids[i]: float(d) for i, d in zip(idx, dist)}

    def distance(self, x: float, y: float, hold_id: str) -> float:
        """Distance from (x, y) to one hold's shape (0 inside)."""
        i = self.ids.index(hold_id)
        return float(shapely.distance(self._geoms[i], shapely.Point(x, y)))

    def nearest(self, x: float, y: float) -> tuple[str, float]:
        """The hold nearest to (x, y) and the distance to its shape."""
        point = shapely.Point(x, y)
        i = int(self._tree.nearest(point))
        return self.ids[i], float(shapely.distance(self._geoms[i], point))
