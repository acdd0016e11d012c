"""The trades import's sheet (交易明细): its columns as clerks title them, and their kinds."""

from __future__ import annotations

from service.core.tabular import Column, SheetSpec

TRADE_SHEET = SheetSpec(
    kind="trades",
    title="交易明细",
    columns=(
        Column(
            "member_no",
            ("成员编号", "社员编号", "成员号"),
            "code",
            required=False,
            example="1",
            note="成员编号（或成员ID）；空着表示与非成员的交易",
        ),
        Column("member_id", ("成员ID", "成员标识"), required=False, note="可用成员ID代替成员编号"),
        Column("traded_on", ("交易日期", "日期"), "date", example="2025-03-01"),
        Column("product", ("品名", "产品", "产品名称", "商品名称"), example="鸡蛋"),
        Column("quantity_g", ("数量（克）", "重量（克）", "数量(g)"), "integer", example="50000"),
        Column("amount_fen", ("金额（分）", "交易额（分）", "交易金额（分）"), "integer", example="60000"),
    ),
)
