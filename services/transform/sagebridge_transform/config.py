"""Transform settings."""
from __future__ import annotations

from pydantic import Field

from sagebridge_common.settings import Settings


class TransformSettings(Settings):
    service_name: str = "transform"
    mapping_file: str = Field("mappings/xcart-sage300.yaml", description="The pair's mapping template (YAML).")
