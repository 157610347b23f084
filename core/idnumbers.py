"""Chinese national ID numbers (GB 11643-1999): check digit, 15→18 upgrade, encryption, HMAC, mask."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X

    @property
    def birth_date(self) -> date:
        return date(int(self.number[6:10]), int(self.number[10:12]), int(self.number[12:14]))

    @property
    def gender(self) -> str:
        return "M" if int(self.number[16]) % 2 == 1 else "F"

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalize(raw: str) -> str:
    """Strip spaces and full-width characters; upper-case the X."""
    text = (raw or "").strip().replace(" ", "").replace("\u3000", "")
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ｘＸ"})
    return text.upper()


def parse(raw: str) -> IdNumber:
    """Validate and return the 18-digit form, or raise ValidationError with a Chinese message."""
    text = normalize(raw)
    if _ID15.match(text):
        first17 = text[:6] + "19" + text[6:15]
        text = first17 + check_char(first17)
    if not _ID18.match(text):
        raise ValidationError("身份证号应为18位（最后一位可为X）或15位数字", code="id_format")
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期无效", code="id_birth") from None
    if birth.year < 1890 or birth > date.today():
        raise ValidationError("身份证号中的出生日期不合理", code="id_birth")
    if check_char(text[:17]) != text[17]:
        raise ValidationError("身份证号校验位不正确，请核对后重新输入", code="id_check")
    return IdNumber(text)


def mask(number: str) -> str:
    """341181**********1X: the address prefix and the last two characters only."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 8) + number[-2:]


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(number: str) -> str:
    return _fernet(settings.ID_ENCRYPTION_KEY).encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.ID_ENCRYPTION_KEY).decrypt(token.encode()).decode()


def digest(number: str) -> str:
    """Keyed HMAC of the normalized 18-digit number: exact search without storing it in clear."""
    return hmac.new(settings.ID_HMAC_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()


def search_digest(raw: str) -> str | None:
    """Digest for a search box entry, or None when it is not a valid ID number."""
    try:
        return digest(parse(raw).number)
    except ValidationError:
        return None


def parse_or_none(raw: str) -> IdNumber | None:
    try:
        return parse(raw)
    except ValidationError:
        return None


def make_number(address_code: str, birth: date, sequence: int) -> str:
    """Build a valid 18-digit number (demo data and tests): sequence 0-999, odd = male."""
    first17 = f"{address_code[:6]}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
