from django.utils.translation import gettext_lazy

from commitments.organisation.commands import OrganisationImportCommand
from commitments.organisation.imports import HEADS, heads_import


class Command(OrganisationImportCommand):
    description = gettext_lazy(
        "Record heads and deputies from a CSV or XLSX file with the columns of "
        "the admin's export: unit_code, full_name, position (head or deputy), "
        "tenure_from (required), title, tenure_to. Dates dd/mm/yyyy. Two heads "
        "of a unit may not overlap. All rows or none; rows are counted from "
        "the first row below the header (row 1). Exit status: 0 every row "
        "valid (and written unless --dry-run); 2 some rows rejected (listed; "
        "nothing written); 1 failed (nothing read)."
    )
    layout = HEADS
    importer = staticmethod(heads_import)
