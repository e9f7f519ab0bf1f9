"""Versions of Shift4Shop records (issue 8 contract): `f"{utc_epoch_seconds:016d}|{sha256[:16]}"`,
the stamp first so versions of one record sort in time, the hash of the canonical JSON so two
states within one second are still two versions."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def digest(record: Any) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()[:16]


def stamped_version(stamp: int, record: Any) -> str:
    return f"{int(stamp):016d}|{digest(record)}"
