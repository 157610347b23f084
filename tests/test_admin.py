from django.apps import apps
from django.contrib import admin

from core.admin_base import ReadOnlyAdmin


def test_every_domain_model_is_in_the_admin():
    missing = [
        model.__name__
        for app in ("towns", "visits", "funds", "reports")
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
    ]
    assert not missing


def test_records_written_only_by_services_are_read_only_in_the_admin():
    from core.models import AuditRecord
    from funds.models import Budget, Disbursement
    from towns.models import Beneficiary, Household
    from visits.models import FollowUp, Visit

    for model in (AuditRecord, Budget, Disbursement, Beneficiary, Household, Visit, FollowUp):
        assert isinstance(admin.site._registry[model], ReadOnlyAdmin), model.__name__


def test_admin_labels_are_chinese():
    from towns.models import Beneficiary

    assert Beneficiary._meta.verbose_name == "慰问对象"
    assert apps.get_app_config("funds").verbose_name == "经费与审计"
