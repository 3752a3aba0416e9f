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
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "authmon.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
