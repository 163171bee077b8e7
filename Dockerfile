# fracdash, hosted: `gunicorn app:server -w 2` on the store in the /data volume.
# Build and run: see docs/deploy.md. No compiler or apt package is needed: every
# dependency (numpy, numba, tensorflow-cpu, pillow...) ships manylinux wheels.
#
# BASE: any Debian bookworm image with Python 3.11 and its venv module. The default is
# the public python:3.11-slim-bookworm; `make docker-check` builds on a bookworm made by
# debootstrap with Debian's python3 and python3-venv (BASE=localhost/fracdash-bookworm).
ARG BASE=python:3.11-slim-bookworm

# Stage deps: a virtual environment with the package's dependencies, read from
# pyproject.toml alone, so that a change to the source does not download TensorFlow again.
FROM ${BASE} AS deps
# Behind a proxy with its own certificate authority: --build-arg PIP_CERT=<bundle in the
# build> (with the bundle mounted into the build). Build-time only, never in the image.
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip
COPY pyproject.toml ./
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > dependencies.txt \
    && /opt/venv/bin/pip install -r dependencies.txt

# Stage wheel: the package's wheel, built from the source (its page's scripts and
# stylesheet are package data in fracdash/web/assets/). No checkout leaves this stage.
FROM deps AS wheel
ARG PIP_CERT
COPY README.md ./
COPY fracdash ./fracdash
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels .

FROM ${BASE}
# NUMBA_CACHE_DIR: the installed package is read-only for the user fracdash, so numba's
# compiled functions are cached in the store volume, which it owns (kept across restarts).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH \
    TF_CPP_MIN_LOG_LEVEL=3 \
    FRACDASH_STORE=/data \
    NUMBA_CACHE_DIR=/data/numba

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin fracdash \
    && mkdir -p /data \
    && chown fracdash:fracdash /data

# The dependencies, then the wheel installed among them; all owned by root, read-only
# for the user.
COPY --from=deps /opt/venv /opt/venv
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps --disable-pip-version-check /tmp/wheels/fracdash-*.whl \
    && rm -rf /tmp/wheels
WORKDIR /app
# The WSGI module gunicorn imports from the working directory (not part of the wheel).
COPY app.py ./

USER fracdash
VOLUME /data
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4); sys.exit(r.status != 200)"]
CMD ["gunicorn", "app:server", "-w", "2", "-b", "0.0.0.0:8050", "--timeout", "120"]
