"""Transform settings: only the shared ones. The pair files (PAIRS_PATH, PAIR_ID) hold the mapping."""
from __future__ import annotations

from sagebridge_common.settings import Settings


class TransformSettings(Settings):
    service_name: str = "transform"
