"""Issue 17, items 4, 6, 8 and 11. A head rating per head who held the post
for a meaningful part of the year: the unique constraint widens from (unit,
year) to (unit, year, head), so every existing row keeps its head and still
holds it. No proposal where the year's index result is missing (``proposed``
NULL; a decision on it needs its reason). When the leader was told of a flag.
A criterion's owner by office function; the unit a deduction arose in; the
case kind for it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0009_unit_office_function'),
        ('scoring', '0006_rate_vocabulary'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='headrating',
            name='head_rating_once',
        ),
        migrations.RemoveConstraint(
            model_name='headrating',
            name='head_rating_change_has_reason',
        ),
        migrations.RemoveConstraint(
            model_name='headrating',
            name='head_rating_decision_keeps_its_proposal',
        ),
        migrations.AddField(
            model_name='adjustment',
            name='source',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustments_arisen', to='commitments.unit', verbose_name='arose in'),
        ),
        migrations.AddField(
            model_name='headrating',
            name='flag_notified_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='leader told of the flag at'),
        ),
        migrations.AddField(
            model_name='historicaladjustment',
            name='source',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='commitments.unit', verbose_name='arose in'),
        ),
        migrations.AddField(
            model_name='node',
            name='owner_kind',
            field=models.CharField(blank=True, choices=[('office', "Office of the People's Council and Committee"), ('home_affairs', 'Home affairs'), ('justice', 'Justice'), ('finance', 'Finance and planning'), ('economy', 'Economy, infrastructure and urban affairs'), ('agriculture', 'Agriculture and environment'), ('culture', 'Culture, information and social affairs'), ('education', 'Education and training'), ('health', 'Health'), ('inspectorate', 'Inspectorate')], max_length=20, verbose_name='owner office'),
        ),
        migrations.AlterField(
            model_name='accountabilitycase',
            name='kind',
            field=models.CharField(choices=[('two_years', 'Commitment missed two years running'), ('criterion', 'Points lost on an owned criterion'), ('deduction', 'A deduction that arose in the unit')], max_length=20, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='headrating',
            name='proposed',
            field=models.PositiveSmallIntegerField(blank=True, choices=[(0, 'Not completed'), (1, 'Completed'), (2, 'Completed well'), (3, 'Completed excellently')], null=True, verbose_name='proposed rating'),
        ),
        migrations.AlterField(
            model_name='historicalheadrating',
            name='proposed',
            field=models.PositiveSmallIntegerField(blank=True, choices=[(0, 'Not completed'), (1, 'Completed'), (2, 'Completed well'), (3, 'Completed excellently')], null=True, verbose_name='proposed rating'),
        ),
        migrations.AddConstraint(
            model_name='headrating',
            constraint=models.UniqueConstraint(fields=('unit', 'year', 'head'), name='head_rating_once'),
        ),
        migrations.AddConstraint(
            model_name='headrating',
            constraint=models.CheckConstraint(condition=models.Q(('final__isnull', True), models.Q(('decided_proposal__isnull', False), ('final', models.F('decided_proposal'))), models.Q(('reason', ''), _negated=True), _connector='OR'), name='head_rating_change_has_reason', violation_error_message='A rating other than the proposal needs a reason.'),
        ),
        migrations.AddConstraint(
            model_name='headrating',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('decided_proposal__isnull', True), ('final__isnull', True)), ('final__isnull', False), _connector='OR'), name='head_rating_decision_keeps_its_proposal', violation_error_message='A decided rating records the proposal it was decided on.'),
        ),
    ]
