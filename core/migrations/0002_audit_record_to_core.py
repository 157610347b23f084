"""The audit record moves from funds to core (issue 15): state only. The table keeps its name
(funds_auditrecord), its rows, indexes and the triggers of funds 0002 and 0008; funds 0010 drops
the model from funds' state once this one holds it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_outbox_and_heartbeats"),
        # The record's town is settings.SCOPE_AREA_MODEL. No dependency on funds: nothing is done to
        # the table here, so core's history need not know the app that made it.
        migrations.swappable_dependency(settings.SCOPE_AREA_MODEL),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditRecord",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(verbose_name="时间")),
                        ("actor_name", models.CharField(blank=True, max_length=60, verbose_name="操作人姓名")),
                        ("actor_role", models.CharField(blank=True, max_length=20, verbose_name="角色")),
                        ("actor_town", models.CharField(blank=True, max_length=50, verbose_name="操作人所属镇")),
                        ("action", models.CharField(db_index=True, max_length=40, verbose_name="操作")),
                        ("object_type", models.CharField(blank=True, max_length=60, verbose_name="对象类型")),
                        ("object_id", models.CharField(blank=True, max_length=40, verbose_name="对象编号")),
                        ("object_repr", models.CharField(blank=True, max_length=120, verbose_name="对象")),
                        ("before", models.JSONField(blank=True, null=True, verbose_name="修改前")),
                        ("after", models.JSONField(blank=True, null=True, verbose_name="修改后")),
                        ("reason", models.CharField(blank=True, max_length=300, verbose_name="原因")),
                        ("request_id", models.CharField(blank=True, max_length=40, verbose_name="请求编号")),
                        (
                            "channel",
                            models.CharField(
                                choices=[
                                    ("web", "网页"),
                                    ("import", "导入"),
                                    ("admin", "后台"),
                                    ("job", "定时任务"),
                                    ("shell", "命令行"),
                                    ("db", "数据库直接修改"),
                                ],
                                max_length=10,
                                verbose_name="渠道",
                            ),
                        ),
                        ("payload", models.TextField(editable=False, verbose_name="签名内容")),
                        ("prev_hash", models.CharField(editable=False, max_length=64, verbose_name="上一条哈希")),
                        ("hash", models.CharField(editable=False, max_length=64, unique=True, verbose_name="哈希")),
                        ("chain", models.PositiveIntegerField(db_default=0, default=0, editable=False, verbose_name="审计链")),
                        ("keyed", models.BooleanField(db_default=False, default=False, editable=False, verbose_name="密钥签名")),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="操作人",
                            ),
                        ),
                        (
                            "town",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.SCOPE_AREA_MODEL,
                                verbose_name="对象所属镇",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "审计记录",
                        "verbose_name_plural": "审计记录",
                        "db_table": "funds_auditrecord",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["object_type", "object_id"], name="audit_object"),
                            models.Index(fields=["town", "created_at"], name="audit_town_time"),
                            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
                            models.Index(fields=["chain", "-id"], name="audit_chain_head"),
                        ],
                    },
                ),
            ],
        ),
    ]
