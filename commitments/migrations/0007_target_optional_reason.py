"""Who made a target optional, when and why (issue 15, defect 7): a target
that is not mandatory now says why (a check constraint). Targets made optional
before the reason was asked for get a reason saying so, rather than being made
mandatory again behind the back of whoever decided it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EARLIER = "Không bắt buộc từ trước khi hệ thống yêu cầu ghi lý do."


def reason_for_earlier(apps, schema_editor):
    Target = apps.get_model("commitments", "Target")
    Target.objects.filter(mandatory=False, optional_reason="").update(
        optional_reason=EARLIER
    )


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0006_indicator_catalogue'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicaltarget',
            name='optional_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='made optional at'),
        ),
        migrations.AddField(
            model_name='historicaltarget',
            name='optional_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='made optional by'),
        ),
        migrations.AddField(
            model_name='historicaltarget',
            name='optional_reason',
            field=models.TextField(blank=True, verbose_name='why it is not mandatory'),
        ),
        migrations.AddField(
            model_name='target',
            name='optional_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='made optional at'),
        ),
        migrations.AddField(
            model_name='target',
            name='optional_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='made optional by'),
        ),
        migrations.AddField(
            model_name='target',
            name='optional_reason',
            field=models.TextField(blank=True, verbose_name='why it is not mandatory'),
        ),
        migrations.RunPython(reason_for_earlier, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='target',
            constraint=models.CheckConstraint(condition=models.Q(('mandatory', True), models.Q(('optional_reason', ''), _negated=True), _connector='OR'), name='target_optional_has_reason', violation_error_message='A target that is not mandatory says why.'),
        ),
    ]
