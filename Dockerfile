# Gantry portal image: web (gunicorn), worker and beat share it; the command picks the role.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml package.json* package-lock.json* ./
RUN pip install --upgrade pip && pip install .
RUN if [ -f package.json ]; then npm ci --omit=dev --no-audit --no-fund; fi

COPY . .
RUN pip install --no-deps -e . \
    && DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 gantry && chown -R gantry /app
USER 10001
EXPOSE 8000
CMD ["gunicorn", "-c", "portal/gunicorn_conf.py", "portal.wsgi:application"]
