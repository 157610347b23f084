from pypinyin import Style, lazy_pinyin


def initials(name: str) -> str:
    """张三 -> "zs"; letters and digits in the name are kept, lower-cased."""
    letters = lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(part[:1].lower() for part in letters if part and part[:1].isalnum())
