FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 AUTHMON_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY authmon ./authmon
COPY audit ./audit
COPY events ./events
COPY jobs ./jobs
COPY notifications ./notifications
COPY sessions_grants ./sessions_grants
COPY nlq ./nlq
COPY insights ./insights
RUN pip install --no-cache-dir .
COPY . .
RUN python manage.py collectstatic --noinput
# authmon runs as its own unprivileged user: it owns only its data directory (exports, archives, uploads, all mode
# 0600), and cannot write the code or site-packages it runs from.
RUN groupadd --system authmon \
    && useradd --system --gid authmon --home-dir /data --no-create-home --shell /usr/sbin/nologin authmon \
    && mkdir -p /data && chown authmon:authmon /data && chmod 0700 /data
USER authmon
EXPOSE 8000
CMD ["gunicorn", "authmon.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
