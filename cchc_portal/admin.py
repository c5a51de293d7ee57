"""What every app's admin shares."""

from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from cchc_portal.spreadsheets import BoundedImportForm


class SpreadsheetAdmin(ImportExportModelAdmin):
    """Import and export the two formats officials use: CSV and Excel."""

    formats = [base_formats.CSV, base_formats.XLSX]
    # An XLSX is checked against what it may expand to before it is read.
    import_form_class = BoundedImportForm
