"""The template vocabulary as data: printed label → key, per table and template.

Keys are fixed by `docs/report-tables.md`. Labels are written as
printed in the national templates; matching (see `match.py`) normalizes both
sides, so spacing, full/half-width punctuation and `1、`/`1.` numbering do not
matter, and small typos are tolerated by a similarity threshold.
"""
from __future__ import annotations

TEMPLATES = ("2019", "2021")

# ---- table 2: row key -> (printed label, column keys), per template ----
TABLE2: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "2021": {
        "regulations": (("规章",), ("issued", "repealed", "in_force")),
        "normative_docs": (("行政规范性文件", "规范性文件"), ("issued", "repealed", "in_force")),
        "licensing": (("行政许可",), ("decisions",)),
        "punishment": (("行政处罚",), ("decisions",)),
        "coercion": (("行政强制",), ("decisions",)),
        "fees": (("行政事业性收费",), ("amount_10k_yuan",)),
    },
    "2019": {
        "regulations": (("规章",), ("new_made", "new_published", "total_published")),
        "normative_docs": (("规范性文件", "行政规范性文件"), ("new_made", "new_published", "total_published")),
        "licensing": (("行政许可",), ("prev_year_items", "change", "decisions")),
        "other_admin_services": (("其他对外管理服务事项",), ("prev_year_items", "change", "decisions")),
        "punishment": (("行政处罚",), ("prev_year_items", "change", "decisions")),
        "coercion": (("行政强制",), ("prev_year_items", "change", "decisions")),
        "fees": (("行政事业性收费",), ("prev_year_items", "change")),
        "procurement": (("政府集中采购",), ("items", "total_amount")),
    },
}

#: Column keys whose value is kept as a printed string (unit included).
STRING_COLUMNS = {("procurement", "total_amount")}
#: Column keys whose value may be negative (本年增/减); every other count is >= 0.
SIGNED_COLUMNS = {"change"}
#: Column keys whose value may have decimals.
DECIMAL_COLUMNS = {("fees", "amount_10k_yuan")}

#: Column headers of table 2 that identify the template.
TEMPLATE_MARKERS: dict[str, tuple[str, ...]] = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "采购项目数量", "采购总金额"),
}

# ---- table 3 ----
TABLE3_COLUMNS = ("natural_person", "commercial", "research", "social_org", "legal_service", "other", "total")

#: Row groups: group key -> printed group label.
TABLE3_GROUPS: dict[str, str] = {
    "denied": "不予公开",
    "unable": "无法提供",
    "not_processed": "不予处理",
    "other": "其他处理",
}

#: Top-level rows (outside any group): key -> printed labels.
TABLE3_TOP: dict[str, tuple[str, ...]] = {
    "new_received": ("本年新收政府信息公开申请数量",),
    "carried_over": ("上年结转政府信息公开申请数量",),
    "granted": ("予以公开",),
    "partially_granted": ("部分公开（区分处理的，只计这一情形，不计其他情形）", "部分公开"),
    "total_processed": ("总计",),
    "carried_forward": ("结转下年度继续办理",),
}

#: Items inside groups: key -> printed label (numbering omitted).
TABLE3_ITEMS: dict[str, tuple[str, ...]] = {
    "denied.state_secret": ("属于国家秘密",),
    "denied.prohibited_by_law": ("其他法律行政法规禁止公开",),
    "denied.three_safeties_one_stability": ("危及“三安全一稳定”",),
    "denied.third_party_rights": ("保护第三方合法权益",),
    "denied.internal_affairs": ("属于三类内部事务信息",),
    "denied.process_info": ("属于四类过程性信息",),
    "denied.enforcement_case": ("属于行政执法案卷",),
    "denied.inquiry": ("属于行政查询事项",),
    "unable.not_held": ("本机关不掌握相关政府信息",),
    "unable.needs_creation": ("没有现成信息需要另行制作",),
    "unable.unclear": ("补正后申请内容仍不明确",),
    "not_processed.complaint": ("信访举报投诉类申请",),
    "not_processed.repeat": ("重复申请",),
    "not_processed.publication": ("要求提供公开出版物",),
    "not_processed.mass_repeat": ("无正当理由大量反复申请",),
    "not_processed.confirmation": ("要求行政机关确认或重新出具已获取信息",),
    "other.no_correction": ("申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",),
    "other.no_fee": ("申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",),
    "other.other": ("其他",),
}

#: Rows of table 3 in printed order, per template (the 2021 three-way split of （六）其他处理).
_T3_HEAD = ["new_received", "carried_over", "granted", "partially_granted",
            *[k for k in TABLE3_ITEMS if k.split(".")[0] in ("denied", "unable", "not_processed")]]
TABLE3_ROWS: dict[str, tuple[str, ...]] = {
    "2021": (*_T3_HEAD, "other.no_correction", "other.no_fee", "other.other", "total_processed", "carried_forward"),
    "2019": (*_T3_HEAD, "other", "total_processed", "carried_forward"),
}
#: Rows summed into `total_processed`.
TABLE3_OUTCOMES: tuple[str, ...] = tuple(
    k for k in TABLE3_ROWS["2021"] + ("other",)
    if k not in ("new_received", "carried_over", "total_processed", "carried_forward")
)

# ---- table 4 ----
TABLE4_GROUPS = ("review", "litigation_direct", "litigation_after_review")
TABLE4_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
#: A short cell printing exactly this starts table 4 (its first header cell).
TABLE4_ANCHORS = ("行政复议",)

#: Printed column headers, per table (for the export's codebook).
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "table2": {"issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数",
               "new_made": "本年新制作数量", "new_published": "本年新公开数量", "total_published": "对外公开总数量",
               "prev_year_items": "上一年项目数量", "change": "本年增/减", "decisions": "本年处理决定数量",
               "amount_10k_yuan": "本年收费金额（单位：万元）", "items": "采购项目数量", "total_amount": "采购总金额"},
    "table3": {"natural_person": "自然人", "commercial": "法人或其他组织·商业企业",
               "research": "法人或其他组织·科研机构", "social_org": "法人或其他组织·社会公益组织",
               "legal_service": "法人或其他组织·法律服务机构", "other": "法人或其他组织·其他", "total": "总计"},
    "table4": {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结",
               "total": "总计"},
}
TABLE4_GROUP_LABELS = {"review": "行政复议", "litigation_direct": "行政诉讼·未经复议直接起诉",
                       "litigation_after_review": "行政诉讼·复议后起诉"}

#: Printed marks that stand for an empty cell.
BLANK_MARKS = {"", "/", "／", "\\", "—", "——", "－", "-", "--", "–", "无", "空", "×"}
#: Units that may follow a number inside a cell.
UNITS = ("万元", "元", "件", "个", "项", "条", "次", "人次", "%")


# ---- derived vocabularies (front-ends use these instead of restating labels) ----

#: Header cells of the standard tables that are not row or column labels.
HEADER_WORDS = ("第二十条", "信息内容", "申请人情况")


def _all_row_labels() -> tuple[str, ...]:
    out: list[str] = [label for tpl in TABLE2.values() for labels, _cols in tpl.values() for label in labels]
    out += [label for labels in TABLE3_TOP.values() for label in labels]
    out += [label for labels in TABLE3_ITEMS.values() for label in labels]
    out += list(TABLE3_GROUPS.values())
    return tuple(dict.fromkeys(out))


#: Every printed row label of tables 2 and 3 (both templates), group labels included.
ROW_LABELS: tuple[str, ...] = _all_row_labels()
#: Labels a row of values follows directly in glued text: the row labels and table 4's column labels.
VALUE_LABELS: tuple[str, ...] = tuple(dict.fromkeys(ROW_LABELS + tuple(COLUMN_LABELS["table4"].values())))
#: Words only the standard tables print (a page holding one is worth looking for tables on).
TABLE_WORDS: tuple[str, ...] = tuple(dict.fromkeys(
    HEADER_WORDS + tuple(m for markers in TEMPLATE_MARKERS.values() for m in markers)
    + tuple(labels[0] for labels in TABLE3_TOP.values()) + tuple(TABLE3_GROUPS.values())
    + TABLE4_ANCHORS + tuple(COLUMN_LABELS["table4"].values()) + ("行政诉讼", "自然人")))
