"""Entry point: `sagebridge-transform`."""
from __future__ import annotations

import sys

from sagebridge_common.app import Application
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pair_file import PairFileError
from sagebridge_common.pairs import PairConfig, load_pairs
from sagebridge_common.topics import STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG

from .config import TransformSettings
from .handler import make_handler


def load_served_pairs(settings: TransformSettings) -> dict[str, PairConfig]:
    """The validated pair files: a wrong key, type or missing value stops the service here."""
    return load_pairs(settings.pairs_path, settings.pair_id)


def build(settings: TransformSettings) -> Application:
    pairs = load_served_pairs(settings)
    app = Application(settings, pairs=pairs)
    versions = KeyedState(settings, "versions", STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG)
    proc = app.processor([STOREFRONT_RAW], make_handler(pairs, versions), stage="transform")
    proc.partition_listeners.append(versions)     # restored before a partition's records, dropped on revoke
    return app


def main() -> None:
    settings = TransformSettings.from_env()
    try:
        app = build(settings)
    except PairFileError as e:
        print(f"sagebridge-transform: cannot start, the pair configuration is invalid:\n{e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(app.run())


if __name__ == "__main__":
    main()
