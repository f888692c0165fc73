"""Named region sets for devices whose overlays sit at known places."""
from __future__ import annotations

from typing import Any, Mapping

from motion.errors import InvalidInput, shown


def device_regions(name: str, presets: Mapping[str, Any]) -> list[dict]:
    """Return the region specs of preset ``name`` from ``presets``.

    ``presets`` comes from configuration and maps a device name to either a
    list of region specs (see :mod:`motion.video.masks`) or an object with a
    ``"regions"`` list. The specs are returned as given; compiling validates
    them against the video's size.

    Raises:
        InvalidInput: ``name`` is not a known preset (the message lists them),
            or the preset holds no regions.
    """
    if not isinstance(name, str) or name not in (presets or {}):
        known = ", ".join(sorted(presets or {})) or "none configured"
        raise InvalidInput(f"Unknown device preset {shown(name)}; known presets: {known}.")
    preset = presets[name]
    regions = preset.get("regions") if isinstance(preset, Mapping) else preset
    if not isinstance(regions, (list, tuple)) or not regions:
        raise InvalidInput(f"Device preset {shown(name)} defines no regions.")
    return list(regions)
