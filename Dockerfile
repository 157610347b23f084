FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# pg_dump / pg_restore for `manage.py backup` and `restore` (PostgreSQL 15, as in docker-compose.yml).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
# The runtime part of requirements.txt only: no pytest, playwright, ruff or other test tools in production.
RUN sed '/^# Tests and quality/,$d' requirements.txt > /tmp/runtime.txt \
    && pip install --no-cache-dir -r /tmp/runtime.txt && rm /tmp/runtime.txt
COPY . .
RUN rm -rf tests bench .ci && SECRET_KEY=build-only-collectstatic-key-000000000000000000 \
    ID_ENCRYPTION_KEY=YnVpbGQtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA= ID_HMAC_KEY=build-only \
    DATABASE_URL=sqlite:////tmp/build-only.sqlite3 REDIS_URL=redis://build-only:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system --uid 10001 nuanxin && mkdir -p /app/media /backups /var/lib/celerybeat \
    && chown nuanxin /app/media /backups /var/lib/celerybeat
USER nuanxin
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
