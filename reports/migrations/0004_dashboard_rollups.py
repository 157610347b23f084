# Dashboard rollups (issue 7 §1): derived tables rebuilt per campaign by reports/rollups.py.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_export_jobs")]

    operations = [
        migrations.CreateModel(
            name='RollupRefresh',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField(unique=True)),
                ('refreshed_at', models.DateTimeField()),
                ('took_ms', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': '看板：刷新记录',
                'verbose_name_plural': '看板：刷新记录',
            },
        ),
        migrations.CreateModel(
            name='CadreDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('cadre_id', models.IntegerField()),
                ('day', models.DateField()),
                ('visits', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': '看板：干部日统计',
                'verbose_name_plural': '看板：干部日统计',
                'indexes': [models.Index(fields=['campaign_id', 'town_id', 'day'], name='cadreday_town_day')],
            },
        ),
        migrations.CreateModel(
            name='CadreZone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('cadre_id', models.IntegerField()),
                ('first_visit_on', models.DateField(null=True)),
                ('people', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': '看板：干部包保对象',
                'verbose_name_plural': '看板：干部包保对象',
                'indexes': [models.Index(fields=['campaign_id', 'town_id'], name='cadrezone_town')],
            },
        ),
        migrations.CreateModel(
            name='CampaignTarget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('beneficiary_id', models.IntegerField()),
                ('household_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('cell_id', models.IntegerField()),
                ('big_cell_id', models.IntegerField(null=True)),
                ('responsible_cadre_id', models.IntegerField(null=True)),
                ('first_visit_on', models.DateField(null=True)),
            ],
            options={
                'verbose_name': '看板：活动对象',
                'verbose_name_plural': '看板：活动对象',
                'indexes': [models.Index(fields=['campaign_id', 'town_id', 'cell_id'], name='campaigntarget_town_cell')],
                'constraints': [models.UniqueConstraint(fields=('campaign_id', 'beneficiary_id'), name='campaigntarget_unique')],
            },
        ),
        migrations.CreateModel(
            name='CellCoverage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('big_cell_id', models.IntegerField(null=True)),
                ('cell_id', models.IntegerField()),
                ('targeted', models.IntegerField(default=0)),
                ('households', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': '看板：网格对象数',
                'verbose_name_plural': '看板：网格对象数',
                'indexes': [models.Index(fields=['campaign_id', 'town_id'], name='cellcoverage_town')],
                'constraints': [models.UniqueConstraint(fields=('campaign_id', 'cell_id'), name='cellcoverage_unique')],
            },
        ),
        migrations.CreateModel(
            name='CellDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('day', models.DateField()),
                ('visits', models.IntegerField(default=0)),
                ('reached', models.IntegerField(default=0)),
                ('grants', models.IntegerField(default=0)),
                ('cash', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('goods_value', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('followups_raised', models.IntegerField(default=0)),
                ('followups_closed', models.IntegerField(default=0)),
                ('cell_id', models.IntegerField()),
                ('big_cell_id', models.IntegerField(null=True)),
            ],
            options={
                'verbose_name': '看板：网格日统计',
                'verbose_name_plural': '看板：网格日统计',
                'indexes': [models.Index(fields=['campaign_id', 'town_id', 'day'], name='cellday_town_day')],
            },
        ),
        migrations.CreateModel(
            name='TownDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.IntegerField()),
                ('town_id', models.IntegerField()),
                ('day', models.DateField()),
                ('visits', models.IntegerField(default=0)),
                ('reached', models.IntegerField(default=0)),
                ('grants', models.IntegerField(default=0)),
                ('cash', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('goods_value', models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                ('followups_raised', models.IntegerField(default=0)),
                ('followups_closed', models.IntegerField(default=0)),
                ('activities', models.IntegerField(default=0)),
                ('activity_people', models.IntegerField(default=0)),
            ],
            options={
                'verbose_name': '看板：镇日统计',
                'verbose_name_plural': '看板：镇日统计',
                'indexes': [models.Index(fields=['campaign_id', 'day', 'town_id'], name='townday_day_town')],
            },
        ),
    ]
