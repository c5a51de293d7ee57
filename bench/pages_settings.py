"""The portal's settings for the page budget (bench/pages.py): everything is
cchc_portal.settings, read from the environment the benchmark sets (DEBUG
off, PostgreSQL); only collectstatic writes under bench/out/ rather than
into the checkout's staticfiles/."""

from cchc_portal.settings import *  # noqa: F403
from cchc_portal.settings import BASE_DIR

STATIC_ROOT = BASE_DIR / "bench" / "out" / "pages" / "static"
