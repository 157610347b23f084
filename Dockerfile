FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-collectstatic-key-000000000000000000 ID_ENCRYPTION_KEY=YnVpbGQtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA= \
    ID_HMAC_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
RUN useradd --system --uid 10001 nuanxin && mkdir -p /app/media && chown nuanxin /app/media
USER nuanxin
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
