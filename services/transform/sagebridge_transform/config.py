"""Transform settings."""
from __future__ import annotations

from sagebridge_common.settings import Settings


class TransformSettings(Settings):
    service_name: str = "transform"
    mapping_file: str = "mappings/xcart-sage300.yaml"
