"""Approximate counts as the bulletin writes them (GB/T 15835 style): "700余人", "280余条", "24万余元".

Rules (checked against the seed bulletin, 天长组工信息 第118期):
- below 10: exact ("7条").
- 10–99: floor to tens ("24" → "20余", "43" → "40余").
- 100 and more: floor to two significant figures when the leading digit is 1 or 2
  ("283" → "280余", "1437" → "1400余", "12345" → "12000余"), else to one ("431" → "400余",
  "726" → "700余"). People and things stay in digits, never "1.2万".
- a number already round reads as it is: 700 → "700", not "700余".
- money of 10,000 yuan and more counts in whole 万 (below 100万) or the same floor above:
  247,000 → "24万余", 250,800 → "25万余", 1,437,000 → "140万余"; an exact 200,000 → "20万".
- never "超…余" (both say "more than"; the bulletin uses only 余).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal


def floor_round(n: int) -> int:
    """The round figure the bulletin floors n to (n itself below 10)."""
    if n < 10:
        return n
    digits = len(str(n))
    if digits == 2:
        unit = 10
    else:
        keep = 2 if str(n)[0] in "12" else 1
        unit = 10 ** (digits - keep)
    return n // unit * unit


def approx(n: int) -> str:
    n = int(n)
    if n < 0:
        raise ValueError("counts are not negative")
    rounded = floor_round(n)
    return str(rounded) if rounded == n else f"{rounded}余"


def approx_yuan(amount) -> str:
    """An amount of money in yuan, without the unit 元: "24万余", "8000余", "500"."""
    amount = Decimal(amount)
    if amount < 0:
        raise ValueError("amounts are not negative")
    whole = int(amount.to_integral_value(rounding=ROUND_FLOOR))
    if whole < 10_000:
        text = approx(whole)
        return text if whole == amount or text.endswith("余") else f"{text}余"
    wan = whole // 10_000
    rounded = wan if wan < 100 else floor_round(wan)  # "24万余", "140万余"
    exact = rounded * 10_000 == amount
    return f"{rounded}万" if exact else f"{rounded}万余"
