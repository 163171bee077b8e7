# fracdash, hosted: `gunicorn app:server -w 2` on the store in the /data volume.
# Build and run: see docs/deploy.md. No compiler or apt package is needed: every
# dependency (numpy, numba, tensorflow-cpu, pillow...) ships manylinux wheels.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    FRACDASH_STORE=/data \
    FRACDASH_ASSETS=/app/assets

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin fracdash \
    && mkdir -p /data \
    && chown fracdash:fracdash /data

WORKDIR /app
# A regular (non-editable) install; the source copy is removed afterwards so that the
# installed package is the one imported. app.py (the WSGI module) and assets/ stay in
# /app, found through the working directory and FRACDASH_ASSETS.
COPY pyproject.toml README.md ./
COPY fracdash ./fracdash
RUN pip install . && rm -rf fracdash build fracdash.egg-info
COPY app.py ./
COPY assets ./assets

USER fracdash
VOLUME /data
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4); sys.exit(r.status != 200)"]
CMD ["gunicorn", "app:server", "-w", "2", "-b", "0.0.0.0:8050", "--timeout", "120"]
