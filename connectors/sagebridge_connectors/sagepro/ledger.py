"""Sage Pro as an `ErpLedger` for `sagebridge reconcile`.

Orders: somast rows whose ponum (the layout's guard) starts with the pair's prefix, read in pages
by key: `... WHERE ponum LIKE 'XP1-%' AND sono > <last sono read> ORDER BY sono` with the page size
as LIMIT (TOP on Visual FoxPro). By key rather than by offset: a clerk deleting an order while the
report runs would shift every later offset and a row would never be read. The sono bound is the
value as read (left-padded), so the engine compares it exactly as it ordered it.

Receipts: none. The layout holds no A/R cash tables (nothing is known of them: reference
sage300_sagepro.md §3, §5), so the sink writes no payments (`skipped`) and this ledger says so with
`keeps_receipts = False`: reconcile then does not look for receipts at all instead of reporting
every payment as missing.
"""
from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any, Iterator

from sagebridge_common.contracts import ErpDocument, ErpReceipt

from .odbc import Pool, default_connect
from .transactions import Transactions, Tx

PAGE = 500


class SageProLedger:
    kind = "sagepro"
    keeps_receipts = False

    def __init__(self, pair: Any, pool: Pool | None = None, *, page_size: int = PAGE) -> None:
        cfg = pair.erp
        self.cfg, self.page_size = cfg, page_size
        self.pool = pool or Pool(default_connect(cfg), 1, wait_s=cfg.login_timeout_s)
        self.tx = Transactions(self.pool, cfg.write_tries, cfg.retry_backoff_s)
        header = cfg.table_layout.table("order_header")
        self.table = header.physical(cfg.company)
        self.cols = {f: header.columns[f].column for f in ("sono", "custno", "ordamt")}
        self.cols["reference"] = header.columns[cfg.table_layout.guard].column
        self.calls: Counter[str] = Counter()

    def _page_sql(self, first: bool) -> str:
        c = self.cols
        columns = f"{c['sono']}, {c['reference']}, {c['ordamt']}, {c['custno']}"
        where = f"{c['reference']} LIKE ?" + ("" if first else f" AND {c['sono']} > ?")
        if self.cfg.dialect == "vfp":
            return f"SELECT TOP {int(self.page_size)} {columns} FROM {self.table} WHERE {where} ORDER BY {c['sono']}"
        return f"SELECT {columns} FROM {self.table} WHERE {where} ORDER BY {c['sono']} LIMIT {int(self.page_size)}"

    def orders(self, reference_prefix: str) -> Iterator[ErpDocument]:
        like = reference_prefix.replace("%", "").replace("_", "") + "%"
        after = None
        while True:
            params = [like] if after is None else [like, after]
            sql = self._page_sql(after is None)

            def page(tx: Tx) -> list:
                rows = tx.fetchall(sql, params, self.table)
                tx.discard()
                return rows
            self.calls["list_orders"] += 1
            rows = self.tx.run(page, "reconcile")
            for sono, reference, total, custno in rows:
                reference = str(reference or "").strip()
                if reference.startswith(reference_prefix):
                    yield ErpDocument(document_id=str(sono).strip(), reference=reference,
                                      total=Decimal(total if total is not None else 0), customer=str(custno or "").strip())
            if len(rows) < self.page_size:
                return
            after = rows[-1][0]

    def receipts(self, reference_prefix: str) -> Iterator[ErpReceipt]:
        """None are kept (see `keeps_receipts`)."""
        return iter(())

    def close(self) -> None:
        self.pool.close()
