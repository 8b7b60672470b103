# A small production image: Python slim, dependencies in a venv, runs as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=ilearn_auth.settings
RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=app:app . /app
# collectstatic needs settings to load, not real secrets: throwaway values for this step only.
# WhiteNoise serves the result: hashed names, gzip copies, far-future cache headers.
RUN DEBUG=true python manage.py collectstatic --noinput --verbosity 0
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3).status == 200 else 1)"
# Bind address, workers (WEB_CONCURRENCY) and logs are in gunicorn.conf.py; the production
# smoke test (tests/production/) runs exactly this command.
CMD ["gunicorn", "ilearn_auth.wsgi:application"]
