"""Issue 17, item 11: a specialised office's function (Phòng Tư pháp is
"justice" in every city), blank for every unit until set."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0008_target_history_reason_text'),
    ]

    operations = [
        migrations.AddField(
            model_name='unit',
            name='office_function',
            field=models.CharField(blank=True, choices=[('office', "Office of the People's Council and Committee"), ('home_affairs', 'Home affairs'), ('justice', 'Justice'), ('finance', 'Finance and planning'), ('economy', 'Economy, infrastructure and urban affairs'), ('agriculture', 'Agriculture and environment'), ('culture', 'Culture, information and social affairs'), ('education', 'Education and training'), ('health', 'Health'), ('inspectorate', 'Inspectorate')], max_length=20, verbose_name='function of the office'),
        ),
    ]
