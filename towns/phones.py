import re

from django.core.exceptions import ValidationError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code: 0 + 2-3 digits area code, 7-8 digit number, optional extension.
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(raw: str) -> str:
    """Return a canonical phone number (mobile: 11 digits; landline: 0550-1234567) or raise."""
    text = (raw or "").strip().replace(" ", "").replace("\u3000", "")
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９－＋"})
    if not text:
        return ""
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    elif text.startswith("0086"):
        text = text[4:].lstrip("-")
    if _MOBILE.match(text):
        return text
    if _LANDLINE.match(text):
        if "-" not in text:
            # Area codes of 3 digits start with 01x/02x; the rest have 4 digits.
            cut = 3 if text[1] in "12" else 4
            text = text[:cut] + "-" + text[cut:]
        return text
    raise ValidationError("电话号码格式不正确：手机号为11位（1开头），座机请带区号，如 0550-7021234", code="phone")


def mask_phone(phone: str) -> str:
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    return phone[:-4] + "****" if len(phone) > 4 else phone
