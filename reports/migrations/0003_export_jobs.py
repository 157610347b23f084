# Export jobs (issue 7 §3): a spreadsheet built by a Celery job, kept for 7 days.
import django.db.models.deletion
import reports.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0002_bulletin_editing'),
        ('towns', '0006_keyset_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ExportJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('exporter', models.CharField(max_length=20, verbose_name='导出内容')),
                ('params', models.JSONField(blank=True, default=dict, verbose_name='筛选条件')),
                ('description', models.CharField(blank=True, max_length=300, verbose_name='筛选条件说明')),
                ('status', models.CharField(choices=[('queued', '排队中'), ('running', '生成中'), ('done', '已完成'), ('failed', '失败')], default='queued', max_length=10, verbose_name='状态')),
                ('rows_done', models.PositiveIntegerField(default=0, verbose_name='已写行数')),
                ('rows_total', models.PositiveIntegerField(blank=True, null=True, verbose_name='预计行数')),
                ('row_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='行数')),
                ('file', models.FileField(blank=True, max_length=200, storage=reports.models.ExportStorage(), upload_to='%Y/%m/', verbose_name='文件')),
                ('size', models.PositiveBigIntegerField(blank=True, null=True, verbose_name='文件大小')),
                ('error', models.CharField(blank=True, max_length=300, verbose_name='失败原因')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='申请时间')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='开始时间')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                ('expires_at', models.DateTimeField(db_index=True, verbose_name='到期时间')),
                ('requester', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='export_jobs', to=settings.AUTH_USER_MODEL, verbose_name='申请人')),
                ('town', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='export_jobs', to='towns.town', verbose_name='镇（街道）')),
            ],
            options={
                'verbose_name': '导出文件',
                'verbose_name_plural': '导出文件',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['requester', '-created_at'], name='exportjob_requester_recent')],
            },
        ),
    ]
