"""The weighing station's sheet (称重单): its columns as clerks title them, and their kinds."""

from __future__ import annotations

from service.core.tabular import Column, SheetSpec

PURCHASE_SHEET = SheetSpec(
    kind="purchases",
    title="称重单",
    columns=(
        Column(
            "contract_id",
            ("合同编号", "合同号", "订单合同编号"),
            example="5d3f0a4e-0000-4000-8000-000000000000",
            note="订单合同的编号（合同页面上的编号）",
        ),
        Column("bought_on", ("收购日期", "交售日期", "日期"), "date", example="2025-10-01"),
        Column("grade", ("等级", "品级"), example="一等"),
        Column("weight_g", ("重量（克）", "净重（克）", "交售重量（克）"), "integer", example="1000"),
        Column(
            "market_price_fen_per_kg",
            ("市场价（分/公斤）", "市场价格（分/公斤）", "市场价（分/千克）"),
            "integer",
            example="1100",
        ),
    ),
)
