# The CCHC portal image: web (gunicorn, the default), Celery worker and beat.
# See docker-compose.yml and docs/operations.md.
FROM python:3.12-slim

# Templates, static files and catalogues live beside the code in /app, so the
# packages are imported from there (PYTHONPATH), not from site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

RUN groupadd --system --gid 1000 cchc \
    && useradd --system --uid 1000 --gid cchc --no-create-home \
       --home-dir /app --shell /usr/sbin/nologin cchc

WORKDIR /app

# Dependencies first, in their own layer: a change to the code does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# Build output, made once here: compiled catalogues, and static files that
# whitenoise serves from the image. The key only lets settings load (DEBUG off
# needs one); it is not used at run time.
ARG BUILD_SECRET_KEY=collectstatic-only-not-a-secret
RUN pybabel compile --domain django --directory locale \
    && DEBUG=0 SECRET_KEY="$BUILD_SECRET_KEY" \
       python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /var/lib/cchc/media \
    && chown cchc:cchc /var/lib/cchc/media

USER cchc

EXPOSE 8000

CMD ["gunicorn", "cchc_portal.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]
