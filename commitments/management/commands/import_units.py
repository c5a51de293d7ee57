from django.utils.translation import gettext_lazy

from commitments.organisation.commands import OrganisationImportCommand
from commitments.organisation.imports import UNITS, units_import


class Command(OrganisationImportCommand):
    description = gettext_lazy(
        "Create or update units from a CSV or XLSX file with the columns of the "
        "admin's export: code, name, kind (required), parent_code, "
        "ranking_group, valid_from (required for a new unit), valid_to, "
        "predecessor_codes (separated by ;). Dates dd/mm/yyyy. A parent comes "
        "before its children in the file, or already exists. All rows or "
        "none; rows are counted from the first row below the header (row 1). "
        "Exit status: 0 every row valid (and written unless --dry-run); 2 some "
        "rows rejected (listed; nothing written); 1 failed (nothing read)."
    )
    layout = UNITS
    importer = staticmethod(units_import)
