"""A 铜城镇 roster import for the access matrix: its preview carries the canary values."""

from core import idnumbers
from core.scoping import unscoped
from tests.cast import CANARY_ID, CANARY_NAME
from towns.models import NameAlias, RosterImport, Village


def tongcheng_import(cast) -> dict:
    with unscoped():
        roster_import = RosterImport.objects.create(
            town=cast.tongcheng.town,
            uploaded_by=cast.tongcheng.cadre.cadre,
            original_name=f"{CANARY_NAME}花名册.xlsx",
            status=RosterImport.Status.FAILED,
            total_rows=1,
            errors=[
                {
                    "row": 3,
                    "column": "D列 身份证号",
                    "value": idnumbers.mask(CANARY_ID),
                    "message": f"{CANARY_NAME}身份证号校验位不正确",
                }
            ],
        )
    return {"pk": roster_import.pk}


def tongcheng_alias(cast) -> dict:
    """A name 铜城镇 mapped: to any other town's cadre, its remove URL is a 404."""
    with unscoped():
        village = Village.objects.filter(town=cast.tongcheng.town).order_by("id").first()
        alias = NameAlias.objects.create(
            town=cast.tongcheng.town,
            kind=NameAlias.Kind.VILLAGE,
            name="铜城老村",
            key="铜城老村",
            village=village,
            created_by=cast.tongcheng.cadre.cadre,
        )
    return {"pk": alias.pk}
