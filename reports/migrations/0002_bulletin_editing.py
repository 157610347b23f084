"""The bulletin editor (issue 7 §2): town submissions, items the editor leaves out, numbering at
publication, and the database's own guard on published issues.

On PostgreSQL a published issue and its items reject UPDATE and DELETE (and items of a published
issue reject INSERT): the service refuses first with a Chinese message; the trigger stops a raw
SQL write or a queryset.update() that skips the service. SQLite (the demo) relies on the service.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import reports.models
from django.conf import settings
from django.db import migrations, models

INSTALL = """
CREATE OR REPLACE FUNCTION reports_bulletin_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION '已发布的组工信息不可修改或删除（%年第%期）', OLD.year, OLD.number;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reports_bulletin_frozen
    BEFORE UPDATE OR DELETE ON reports_bulletin
    FOR EACH ROW EXECUTE FUNCTION reports_bulletin_frozen();

CREATE OR REPLACE FUNCTION reports_bulletinitem_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND EXISTS (SELECT 1 FROM reports_bulletin WHERE id = OLD.bulletin_id AND status = 'published') THEN
        RAISE EXCEPTION '已发布的组工信息不可修改条目';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       AND EXISTS (SELECT 1 FROM reports_bulletin WHERE id = NEW.bulletin_id AND status = 'published') THEN
        RAISE EXCEPTION '已发布的组工信息不可增加条目';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reports_bulletinitem_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON reports_bulletinitem
    FOR EACH ROW EXECUTE FUNCTION reports_bulletinitem_frozen();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS reports_bulletinitem_frozen ON reports_bulletinitem;
DROP FUNCTION IF EXISTS reports_bulletinitem_frozen();
DROP TRIGGER IF EXISTS reports_bulletin_frozen ON reports_bulletin;
DROP FUNCTION IF EXISTS reports_bulletin_frozen();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


def seed_sequences(apps, schema_editor):
    """Issues published before this migration: the sequence goes on from their highest number."""
    Bulletin = apps.get_model("reports", "Bulletin")
    BulletinSequence = apps.get_model("reports", "BulletinSequence")
    rows = Bulletin.objects.filter(status="published").values("year").annotate(last=models.Max("number"))
    BulletinSequence.objects.bulk_create([BulletinSequence(year=r["year"], last_number=r["last"] or 0) for r in rows])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("towns", "0006_keyset_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BulletinSequence",
            fields=[
                ("year", models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name="年度")),
                ("last_number", models.PositiveIntegerField(default=0, verbose_name="已用期号")),
            ],
            options={"verbose_name": "组工信息期号", "verbose_name_plural": "组工信息期号"},
        ),
        migrations.CreateModel(
            name="BulletinSubmission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("week_start", models.DateField(verbose_name="所报周（周一）")),
                ("headline", models.CharField(max_length=80, verbose_name="标题")),
                ("body", models.TextField(max_length=1500, verbose_name="正文")),
                ("submitted_at", models.DateTimeField(auto_now_add=True, verbose_name="报送时间")),
                (
                    "submitted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="报送人",
                    ),
                ),
                (
                    "town",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bulletin_submissions",
                        to="towns.town",
                        verbose_name="镇（街道）",
                    ),
                ),
            ],
            options={
                "verbose_name": "镇（街道）报送",
                "verbose_name_plural": "镇（街道）报送",
                "ordering": ["-week_start", "-id"],
                "indexes": [models.Index(fields=["week_start", "town"], name="bulletinsub_week_town")],
                "constraints": [
                    models.CheckConstraint(
                        condition=django.db.models.lookups.LessThanOrEqual(
                            django.db.models.functions.text.Length("body"), 1500
                        ),
                        name="bulletinsub_body_max_chars",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="bulletinitem",
            name="included",
            field=models.BooleanField(default=True, verbose_name="编入本期"),
        ),
        migrations.AddField(
            model_name="bulletinitem",
            name="submission",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="items",
                to="reports.bulletinsubmission",
                verbose_name="采用的报送稿",
            ),
        ),
        migrations.AlterField(
            model_name="bulletin",
            name="number",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="期号"),
        ),
        migrations.AddConstraint(
            model_name="bulletin",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "draft"), ("number__isnull", False), _connector="OR"),
                name="bulletin_published_has_number",
            ),
        ),
        migrations.AlterField(
            model_name="bulletin",
            name="issuing_unit",
            field=models.CharField(default=reports.models.default_unit, max_length=60, verbose_name="编发单位"),
        ),
        migrations.AlterField(
            model_name="bulletin",
            name="report_to",
            field=models.TextField(default=reports.models.default_report_to, verbose_name="报"),
        ),
        migrations.AlterField(
            model_name="bulletin",
            name="copy_to",
            field=models.TextField(default=reports.models.default_copy_to, verbose_name="送"),
        ),
        migrations.RunPython(seed_sequences, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
