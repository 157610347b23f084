"""The inspection rules in the inspectors' words, and the thresholds a flag was computed with."""

from __future__ import annotations

from funds.inspection.base import Rule

# Rule 9 finds two things; the flag page explains the one it found (InspectionFlag.title).
BULK_ENTRY_HELP = (
    "集中录入：同一干部在几分钟内登记了大量发放记录（超过下方阈值）。当面发放、当场签领的记录是逐笔登记的，"
    "短时间内录入几十笔，多半是事后照名单补录，需核实每笔是否本人当面领取、本人签领。"
)
SAME_IMAGE_HELP = "签领雷同：同一张签领照片（文件摘要相同）用在了不同的人身上，可能是代签或重复使用凭证。"

# Shown on the flag page: what the rule looks for, in the inspectors' words.
RULE_HELP: dict[str, str] = {
    Rule.DUPLICATE: "同一身份证号在同一专项活动中领取慰问金两次以上，或在两个以上镇（街道）的登记下都领取了慰问金（品）。",
    Rule.ABOVE_STANDARD: "同一人在一个专项活动中领取的现金、转账和慰问品折价合计，超过其所属人群类别中最高的慰问标准；"
    "专项活动以外的发放，按自然年合计，超过其所属人群类别中最高的日常慰问标准（每年）。",
    Rule.RELATIVE: "领取人是发放人或审批人申报的近亲属，或与其申报的近亲属同户（亲情牌、优亲厚友）。",
    Rule.NOT_TARGETED: "名单未经审定的镇，领取人不属于专项活动的慰问对象类别；或发放当天已故、已迁出。",
    Rule.NO_VISIT: "发放前后规定天数内没有对领取人的走访记录。",
    Rule.NO_RECEIPT: "现金或慰问品发放后超过规定天数仍没有签领凭证（签字、手印或签领花名册扫描页）。银行转账以银行记录为凭，不在此列。",
    Rule.OVER_BUDGET: "某镇（街道）某一经费来源在专项活动中的发放合计超过预算；未列预算的来源按预算为0计。",
    Rule.LATE_ENTRY: "发放记录在发放日之后超过规定天数才登记（事后补录），或作废后改发给了另一个人。",
    Rule.BULK_SIGNING: BULK_ENTRY_HELP + SAME_IMAGE_HELP,
    Rule.OFF_LIST: "本镇慰问对象名单经镇党委审定后，发给不在名单上的人（含发放后才增补进名单的）。",
}

THRESHOLD_LABELS = {
    "INSPECTION_NO_VISIT_DAYS": "走访时间窗（发放前后天数）",
    "INSPECTION_RECEIPT_DAYS": "签领期限（天）",
    "INSPECTION_LATE_ENTRY_DAYS": "补录期限（天）",
    "INSPECTION_BULK_COUNT": "集中录入笔数上限",
    "INSPECTION_BULK_MINUTES": "集中录入时间窗（分钟）",
}


def threshold_text(thresholds: dict) -> str:
    """The thresholds a flag used, as a reader says them ("阈值：10分钟内30笔"), never the setting names."""
    t = thresholds or {}
    parts = []
    if "INSPECTION_BULK_COUNT" in t:
        parts.append(f"{t.get('INSPECTION_BULK_MINUTES', '?')}分钟内{t['INSPECTION_BULK_COUNT']}笔")
    if "INSPECTION_NO_VISIT_DAYS" in t:
        parts.append(f"发放前后{t['INSPECTION_NO_VISIT_DAYS']}天内应有走访")
    if "INSPECTION_RECEIPT_DAYS" in t:
        parts.append(f"发放后{t['INSPECTION_RECEIPT_DAYS']}天内应签领")
    if "INSPECTION_LATE_ENTRY_DAYS" in t:
        parts.append(f"发放后{t['INSPECTION_LATE_ENTRY_DAYS']}天内应登记")
    known = set(THRESHOLD_LABELS)
    parts += [f"{k}：{v}" for k, v in t.items() if k not in known]
    return "阈值：" + "；".join(parts) if parts else ""
