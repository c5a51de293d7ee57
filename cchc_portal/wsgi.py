import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc_portal.settings")

application = get_wsgi_application()

# What a worker loads once (modules, models, URL patterns, views) lives as long
# as the worker: load the URL patterns now too, and move it all out of the
# garbage collector's way. A full collection then walks only what requests
# allocate; over the loaded portal it took 50-70 ms on two vCPUs, a stall of
# every request waiting on that worker.
get_resolver().url_patterns  # noqa: B018 - loaded for the freeze
gc.freeze()
