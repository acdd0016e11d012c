"""The household import's sheet (农户名册): its columns as clerks title them, and their kinds."""

from __future__ import annotations

from service.core.identity import example_card_number, example_id_number
from service.core.tabular import Column, SheetSpec

HOUSEHOLD_SHEET = SheetSpec(
    kind="households",
    title="农户名册",
    columns=(
        Column(
            "household_no",
            ("户号", "户编号", "农户编号"),
            example="621223100201-00001",
            note="4至40位字母、数字或连字符",
        ),
        Column(
            "village_code",
            ("村代码", "村级代码", "村编码", "行政区划代码", "村代码（12位）"),
            "code",
            example="621223100201",
        ),
        Column("head_name", ("户主姓名", "户主", "姓名"), example="张建国"),
        Column(
            "head_id_number",
            ("户主身份证号", "身份证号", "身份证号码", "户主身份证号码", "公民身份号码"),
            "identity",
            example=example_id_number(),
        ),
        Column("members", ("家庭人口", "家庭人口数", "人口数", "家庭成员数"), "integer", example="4"),
        Column("bank_name", ("开户银行", "开户行", "银行名称"), example="甘肃省农村信用社"),
        Column(
            "bank_account",
            ("银行卡号", "卡号", "银行账号", "银行帐号", "账号", "帐号", "一卡通账号", "惠农一卡通账号"),
            "identity",
            example=example_card_number(),
        ),
        Column(
            "phone",
            ("联系电话", "电话", "手机号", "手机号码", "电话号码"),
            "code",
            required=False,
            example="13900000000",
        ),
        Column("pin", ("登录密码", "密码", "PIN"), "code", required=False, note="6位数字，农户登录手机页面用；可不填"),
        Column("split_from", ("分户来源", "原户编号"), required=False, note="分户时填写原农户的编号；可不填"),
    ),
)
