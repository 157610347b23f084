import re

from django.core.exceptions import ValidationError

_SPACE = re.compile(r"[\s\u3000\xa0]+")
_SEPARATORS = re.compile(r"[-()]")
# Area codes of 3 digits start with 01x/02x; the rest have 4 digits.
_LANDLINE_PARTS = re.compile(r"^[(]?(01\d|02\d|0[3-9]\d{2})[)-]?(\d{3,4})-?(\d{4})(?:-(\d{1,6}))?$")
_HALF_WIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９－＋（）"}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code: 0 + 2-3 digits area code, 7-8 digit number, optional extension.
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(raw: str) -> str:
    """Return a canonical phone number (mobile: 11 digits; landline: 0550-1234567) or raise."""
    text = _SPACE.sub("", raw or "")
    text = text.translate(_HALF_WIDTH).replace("—", "-").replace("–", "-")
    if not text:
        return ""
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    elif text.startswith("0086"):
        text = text[4:].lstrip("-")
    elif text.startswith("86") and len(_SEPARATORS.sub("", text)) == 13:
        text = text[2:].lstrip("-")
    # Offices write 138-0000-1234, (0550)7021234, 0550-702-1234: the digits are what counts;
    # a dash after 7-8 digits of a landline still marks an extension.
    digits = _SEPARATORS.sub("", text)
    if _MOBILE.match(digits):
        return digits
    landline = _LANDLINE_PARTS.match(text)
    if landline and len(landline.group(2) + landline.group(3)) in (7, 8):
        area, head, tail, extension = landline.groups()
        return f"{area}-{head}{tail}" + (f"-{extension}" if extension else "")
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
