"""Spreadsheet import and export of the procedure catalogue (django-import-export,
for the admin). Case records have their own engine: procedures.importer."""

from import_export import fields, resources, widgets

from commitments.resources import DuplicateCodeCheck
from procedures.models import Procedure


class ProcedureResource(DuplicateCodeCheck, resources.ModelResource):
    duplicate_key = ("code",)

    publicly_listed = fields.Field(
        attribute="publicly_listed",
        column_name="publicly_listed",
        widget=widgets.BooleanWidget(),
    )
    fee_required = fields.Field(
        attribute="fee_required",
        column_name="fee_required",
        widget=widgets.BooleanWidget(),
    )

    class Meta:
        model = Procedure
        import_id_fields = ("code",)
        fields = (
            "code",
            "name",
            "field",
            "level",
            "online_level",
            "publicly_listed",
            "fee_required",
        )
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
