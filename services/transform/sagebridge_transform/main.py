"""Entry point: `sagebridge-transform`."""
from __future__ import annotations

from sagebridge_common.app import Application, serve
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pairs import PairConfig, load_pairs
from sagebridge_common.topics import ERP_RAW, STOREFRONT_RAW, TRANSFORM_ERP_CHANGELOG, TRANSFORM_VERSIONS_CHANGELOG

from .config import TransformSettings
from .handler import make_handler


def load_served_pairs(settings: TransformSettings) -> dict[str, PairConfig]:
    """The validated pair files: a wrong key, type or missing value stops the service here."""
    return load_pairs(settings.pairs_path, settings.pair_id)


def build(settings: TransformSettings) -> Application:
    pairs = load_served_pairs(settings)
    app = Application(settings, pairs=pairs)
    versions = KeyedState(settings, "versions", STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG)
    erp_rows = KeyedState(settings, "erp", ERP_RAW, TRANSFORM_ERP_CHANGELOG)
    proc = app.processor([STOREFRONT_RAW, ERP_RAW], make_handler(pairs, versions, erp_rows), stage="transform")
    proc.partition_listeners += [versions, erp_rows]   # each restored before its partitions' records, dropped on revoke
    return app


def main() -> None:
    serve(build, TransformSettings)


if __name__ == "__main__":
    main()
