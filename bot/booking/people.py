"""Who books: validates and normalises name, mobile number and resident ID number, and masks them for display."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from bot.privacy import mask_id, mask_name, mask_phone

from .errors import Invalid

NAME_MIN, NAME_MAX = 2, 30
# Han characters (incl. extension A), Latin letters, spaces and the middle dot of minority / foreign names
_LETTER = r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z]"
_NAME = re.compile(rf"^{_LETTER}(?:[\u3400-\u4dbf\u4e00-\u9fffA-Za-z· ]*{_LETTER})?$")
_SPACE_BY_HAN = re.compile(r"(?<=[\u3400-\u9fff·]) | (?=[\u3400-\u9fff·])")
_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "‧": "·", "∙": "·"})
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


@dataclass(frozen=True, repr=False)
class Person:
    name: str
    phone: str
    id_number: str  # stdnum-compact: 18 characters, upper-case X

    def masked(self) -> dict[str, str]:
        return {"name": mask_name(self.name), "phone": mask_phone(self.phone), "id_number": mask_id(self.id_number)}

    def __repr__(self) -> str:  # never leak personal data through logs or tracebacks
        m = self.masked()
        return f"Person({m['name']}, {m['phone']}, {m['id_number']})"


def _text(value: object, field: str, label: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid("missing_field", f"请填写{label}。", fields=[field])
    if not isinstance(value, str):
        raise Invalid("invalid_field", f"{label}应为文本。", fields=[field])
    return unicodedata.normalize("NFKC", value).strip()


def clean_name(value: object) -> str:
    name = " ".join(_text(value, "name", "姓名").translate(_DOTS).split())
    name = _SPACE_BY_HAN.sub("", name)  # 张 三 -> 张三; spaces only separate Latin-script names
    if not NAME_MIN <= len(name) <= NAME_MAX or not _NAME.match(name):
        raise Invalid("invalid_name",
                      f"姓名应为 {NAME_MIN}–{NAME_MAX} 个汉字或字母（少数民族姓名可用“·”分隔），请核对。")
    return name


def clean_phone(value: object) -> str:
    phone = _PHONE_SEPARATORS.sub("", _text(value, "phone", "手机号码"))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not _MOBILE.match(phone):
        raise Invalid("invalid_phone", "手机号码应为 11 位中国大陆手机号，请核对。")
    return phone


def clean_id_number(value: object) -> str:
    raw = _text(value, "id_number", "身份证号码")
    try:
        return ric.validate(raw)
    except InvalidLength:
        raise Invalid("invalid_id_number", "身份证号码应为 18 位，请核对。") from None
    except (InvalidChecksum, InvalidComponent):
        raise Invalid("invalid_id_number", "身份证号码校验不通过，请核对。") from None
    except ValidationError:
        raise Invalid("invalid_id_number",
                      "身份证号码格式不对（前 17 位应为数字，最后一位为数字或 X），请核对。") from None


def person(name: object, phone: object, id_number: object) -> Person:
    """Validates all three fields; the first problem found is reported."""
    return Person(clean_name(name), clean_phone(phone), clean_id_number(id_number))
