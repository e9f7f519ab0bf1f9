"""Entry point: `sagebridge-transform`."""
from __future__ import annotations

import sys

from sagebridge_common.app import Application
from sagebridge_common.topics import STOREFRONT_RAW

from .config import TransformSettings
from .handler import make_handler
from .mapping import load_mapping


def build(settings: TransformSettings) -> Application:
    mapping = load_mapping(settings.mapping_file)   # fail fast on a bad template
    app = Application(settings)
    app.processor([STOREFRONT_RAW], make_handler(mapping), stage="transform")
    return app


def main() -> None:
    sys.exit(build(TransformSettings.from_env()).run())


if __name__ == "__main__":
    main()
