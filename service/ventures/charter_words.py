"""A venture's charter (章程) in the sentences an accountant or a shareholders' meeting reads."""

from __future__ import annotations

from typing import Any

from service.ventures.charter import MIN_PATRONAGE_BP, STATUTORY_RESERVE_BP


def _pct(bp: int) -> str:
    whole, rest = divmod(bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def charter_sentences(model: str, charter: Any) -> list[str]:
    """What the charter does with a year's profit, one sentence per term, in order of the waterfall."""
    said = []
    if charter.weighting == "share_days":
        said.append("持股按全年持有天数计算：股数 × 当年持有天数（含变动生效日和年末最后一天）。")
    else:
        said.append("持股按股权登记日（股权登记日当天结束时）的股份计算。")
    if model == "cooperative":
        said.append(
            f"本年盈余先弥补亏损，再按 {_pct(charter.reserve_bp)} 提取公积金，公积金按交易量量化到每位成员账户。"
        )
        said.append(
            f"可分配盈余的 {_pct(charter.patronage_bp)} 按成员与本社的交易量（额）返还"
            f"（法定不低于 {_pct(MIN_PATRONAGE_BP)}），其余按成员账户中的出资、公积金份额和补助量化份额比例分配。"
        )
    else:
        reserve = max(charter.reserve_bp, STATUTORY_RESERVE_BP)
        said.append(
            f"税后利润先弥补以前年度亏损，再按 {_pct(reserve)} 提取法定公积金（累计达注册资本 50% 后不再提取）"
            + (f"，再按 {_pct(charter.discretionary_bp)} 提取任意公积金" if charter.discretionary_bp else "")
            + "，其余按实缴股份分红。"
        )
    floors = {
        "none": "贫困户股不设保底收益。",
        "fixed": f"贫困户股每年获得股金 {_pct(charter.floor_bp)} 的固定收益（资产收益扶贫），无论盈亏照付，计入财务费用。",
        "preferred": f"贫困户股优先分得股金 {_pct(charter.floor_bp)} 的收益；当年不足的部分结转，以后年度优先补付。",
        "minimum": f"贫困户股按股分得的不足股金 {_pct(charter.floor_bp)} 时补足到这一保底，差额由其余股份按股分担；"
        "可分配金额不够全部保底时，按保底金额比例分配。",
    }
    said.append(floors.get(charter.floor_mode, ""))
    if charter.floor_mode != "none":
        said.append(
            "贫困户股在保底之外还参与剩余利润的分配（二次分红）。"
            if charter.poverty_participates
            else "贫困户股只得保底收益，不再参与剩余利润分配。"
        )
    if charter.poverty_follows_status:
        said.append(
            "谁贫困谁享受：农户脱贫后其贫困户股收回村集体，系统提出在仍为贫困户的成员间重新配股的方案，由会计确认。"
        )
    return [s for s in said if s]
