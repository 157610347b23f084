"""The demo county's facts: 天长市's towns, the categories and standards of the 2024 campaign, the
seed, the scales, and the words generated rows are made of (names, places, notes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

PASSWORD = "Demo@2024nx"
CAMPAIGN_NAME = "2024年双节慰问"
COUNTY_CODE = "341181"
SEED = "nuanxin-demo-20240109"
TZ = ZoneInfo("Asia/Shanghai")
BULLETIN_DAY = date(2024, 1, 9)
AS_OF = date(2024, 1, 31)  # the last day with data: the weeks around the bulletin
CAMPAIGN_START, CAMPAIGN_END = date(2023, 12, 20), date(2024, 2, 20)


@dataclass(frozen=True)
class Scale:
    name: str
    people: int  # beneficiaries in the county
    small_per_village: tuple[int, int]  # outside 冶山镇, whose 70/284 cells are a fact
    routine_from: date  # routine (non-campaign) visits from this day to AS_OF
    activity_factor: int = 1
    seed_figures: bool = False  # 张铺镇 / 仁和集镇 follow-up counts from the bulletin
    # A running campaign placed relative to the load day (build_running_campaign). Not at county
    # scale: the bench measures the 2024 history, and the load stays a fixed workload.
    alive: bool = True


SCALES = {
    "tiny": Scale("tiny", 320, (1, 2), date(2023, 11, 1)),
    "demo": Scale("demo", 5_000, (3, 8), date(2023, 11, 1), seed_figures=True),
    "county": Scale("county", 150_000, (22, 35), date(2023, 2, 1), activity_factor=12, alive=False),
}

# (town code, name, kind, login prefix, villages, communities, share of the demo's 5,000 people).
# 铜城镇's share gives a campaign roster near its 755; 仁和集镇 keeps 400+.
TOWNS = [
    ("003", "广陵街道", "subdistrict", "gl", 12, 9, 260),
    ("004", "千秋街道", "subdistrict", "qq", 10, 7, 220),
    ("100", "铜城镇", "town", "tc", 13, 2, 1190),
    ("101", "汊涧镇", "town", "cj", 14, 2, 290),
    ("102", "秦栏镇", "town", "ql", 11, 2, 210),
    ("103", "大通镇", "town", "dt", 8, 1, 170),
    ("104", "杨村镇", "town", "yc", 9, 1, 170),
    ("105", "石梁镇", "town", "sl", 10, 2, 190),
    ("106", "金集镇", "town", "jj", 8, 1, 170),
    ("107", "永丰镇", "town", "yf", 8, 1, 170),
    ("108", "仁和集镇", "town", "rhj", 9, 1, 430),
    ("109", "冶山镇", "town", "ys", 10, 2, 570),
    ("110", "郑集镇", "town", "zj", 8, 1, 170),
    ("111", "张铺镇", "town", "zp", 9, 1, 420),
    ("112", "新街镇", "town", "xj", 11, 2, 240),
    ("113", "万寿镇", "town", "ws", 7, 1, 130),
]
YESHAN_BIG, YESHAN_SMALL = 70, 284
RENHEJI_BRANCHES = 57
TOWN_CADRES = {"张铺镇": 20}  # "组织20余名镇干部"

# (code, name, interval days, sensitive, grant standard in the campaign or None when not targeted)
CATEGORIES = [
    ("age60", "60岁以上", 90, False, None),
    ("elderly_alone", "独居老人", 30, False, 300),
    ("serious_illness", "重症病人", 15, True, 400),
    ("disabled", "残疾人", 30, True, 300),
    ("extreme_poverty", "特困家庭", 30, True, 500),
    ("widowed_elderly", "孤寡老人", 30, False, 400),
    ("dibao", "低保家庭", 60, True, 300),
    ("poor_party_member", "困难党员", 60, False, 500),
    ("needy", "困难群众", 60, False, 300),
    ("retired_cadre", "退休老干部", 90, False, 300),
    ("left_behind_child", "留守儿童", 30, True, 200),
    ("elderly_party_member", "高龄党员", 60, False, 300),
]
STANDARD = {code: Decimal(amount) for code, _, _, _, amount in CATEGORIES if amount}
# 日常慰问标准 (元/年, Category.standard): what one person may receive outside campaigns in a year;
# the 超标准 rule checks it. Twice the campaign standard, and ¥400 for the untargeted 60岁以上.
YEARLY_STANDARD = {code: Decimal(amount or 200) * 2 for code, _, _, _, amount in CATEGORIES}
INTERVAL = {code: days for code, _, days, _, _ in CATEGORIES}
PARTY_CATS = {"poor_party_member", "elderly_party_member", "retired_cadre"}
CIVIL_CATS = {"dibao", "extreme_poverty", "widowed_elderly", "disabled"}

GOODS = [
    ("米", "袋", Decimal("60.00")),
    ("油", "桶", Decimal("80.00")),
    ("棉被", "床", Decimal("150.00")),
    ("慰问大礼包", "份", Decimal("200.00")),
]

SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨周周吴吴徐徐孙朱朱胡高何马许郭汪储储戴蒋倪葛邵姚"
    "韩冯沈谢唐曹袁鲁程丁卢魏任殷薛夏范顾钱崔陆宋秦黄赵金方施"
)


def _words(text: str) -> list[str]:
    return text.split()


GIVEN = {
    ("old", "M"): _words(
        "德海 有福 长松 国华 正明 义和 广才 家宝 春生 永贵 宝山 树林 学文 存礼 开富 玉成 金荣 立本 万年 守田 贵林 福生 兆祥 恒山 秀峰 传德 庆余 忠厚 银生 大林"
    ),
    ("old", "F"): _words(
        "桂英 秀兰 玉兰 秀英 凤英 兰英 翠兰 桂兰 玉珍 桂芳 秀珍 素英 凤兰 春英 金凤 玉梅 月英 桂香 淑珍 友兰 秀芳 爱兰 美英 巧云 宝珍 荷英 喜梅 菊英 银凤 玉英"
    ),
    ("mid", "M"): _words("建国 卫东 志强 建华 国庆 红军 海涛 永刚 立新 建军 文斌 小兵 明 勇 军 伟 刚 斌 涛 强"),
    ("mid", "F"): _words("海燕 红梅 丽 静 霞 艳 玉霞 春梅 红霞 丽娟 晓燕 桂云 秀云 凤琴 美玲 芳 娟 敏 燕 萍"),
    ("young", "M"): _words("子涵 梓轩 浩然 宇航 俊熙 一鸣 博文 子墨 皓轩 晨阳 睿泽 嘉豪 思远 天佑 宇轩"),
    ("young", "F"): _words("欣怡 雨桐 梓涵 诗琪 可馨 语嫣 若曦 佳怡 思彤 一诺 梦瑶 子萱 紫涵 雨欣 沐晴"),
}
VILLAGE_HEADS = "东西南北新老大小高龙凤金石双三五马杨王李张刘陈周吴徐孙朱胡沈蒋花桂白黄青红"
VILLAGE_TAILS = "庄湾岗集桥圩塘营洼楼店庙郢埠港墩园林"
COMMUNITY_NAMES = _words(
    "长兴 幸福 和平 新华 光明 文昌 育才 金桥 滨河 天宁 永安 胜利 春晖 安康 祥和 朝阳 惠民 兴业 龙岗 秀水 嘉禾 锦绣 团结 富民 康乐 福临"
)
GROUP_PREFIX = "前后东西南北上下大小张王李陈刘杨周吴何胡"
GROUP_TAIL = "庄郢圩岗塘湾"
ROADS = _words("幸福路 文化路 健康路 人民路 建设路 振兴路 团结路 和平路 新华路 长安路")
PHONE_PREFIXES = _words("133 135 136 137 138 139 150 151 152 155 156 158 177 180 181 187 188 189 199")


VISIT_NOTES = {
    "home": [
        "老人身体硬朗，家中过冬物资充足",
        "询问近期生活情况，叮嘱注意防寒保暖",
        "检查家中用电用气安全，未发现隐患",
        "老人腿脚不便，已联系家庭医生上门",
        "子女在外务工，老人独自在家，情绪稳定",
        "宣传医保、养老保险最新政策",
        "与老人拉家常，了解近期需求",
        "",
    ],
    "phone": ["电话询问近况，本人表示一切安好", "电话联系家属，了解身体状况"],
    "group": ["参加村集中慰问活动，领取慰问品", "在帮扶活动室参加集中慰问"],
    "health": ["医护人员测量血压，提供健康指导", "测量血压，提醒按时服药", "家庭医生随访，血压基本平稳"],
    "study": ["送学上门，宣讲党的二十大精神", "送去学习资料和慰问信，交流学习体会"],
}
FOLLOWUP_TITLES = {
    "demand": [
        "申请临时救助",
        "房屋漏雨需维修",
        "医保报销咨询",
        "申请居家养老服务",
        "家门口路灯损坏",
        "饮水管道老化需更换",
        "申请轮椅",
        "办理残疾证",
        "冬季取暖困难",
        "孩子就学资助咨询",
    ],
    "wish": ["想要一台收音机", "希望有人上门理发", "想要一件厚棉衣", "想要一副老花镜", "希望孩子得到学习辅导", "想要一个电暖器"],
    "suggestion": ["建议村里增设路灯", "建议修缮村头道路", "建议增加文化活动", "建议加强道路交通安全宣传", "建议开设老年食堂"],
    "measure": [
        "每月上门探望一次",
        "联系家庭医生签约服务",
        "协助申请低保复核",
        "安排志愿者结对帮扶",
        "落实临时救助",
        "代办医保报销",
    ],
}
GENERIC_ACTIVITIES = {
    "group_visit": "集中慰问活动",
    "lecture": "党的二十大精神宣讲",
    "health": "义诊和健康讲座",
    "volunteer": "志愿服务进村入户",
}
