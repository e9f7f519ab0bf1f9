# syntax=docker/dockerfile:1
# One image recipe for every Sagebridge service; pick the service with the SERVICE build argument.
# Build from the repo root:
#   docker build --build-arg SERVICE=erp-writer -t sagebridge/erp-writer:dev .
# SERVICE is one of: ingest, transform, erp-writer, erp-cdc, storefront-writer (the console script
# `sagebridge-$SERVICE` is the entry point; services/<SERVICE with _ for ->/ holds its package).
#
# Base image: pinned by version (Python 3.11.7 on Debian 12 "bookworm", the combination the test suite
# runs on). No registry is reachable from where this file was written, so the digest could not be looked
# up; pin it in your build with `--build-arg PYTHON_IMAGE=python:3.11.7-slim-bookworm@sha256:<digest>`.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# --- build: install the service and its libraries into a virtualenv (no compilers reach the runtime) ---
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "${SERVICE}" in \
      ingest|transform|erp-writer|erp-cdc|storefront-writer) ;; \
      *) echo "SERVICE must be one of ingest transform erp-writer erp-cdc storefront-writer, not '${SERVICE}'" >&2; exit 1 ;; \
    esac \
 && python -m venv /opt/sagebridge
COPY requirements.txt /src/requirements.txt
COPY libs/common /src/libs/common
COPY connectors /src/connectors
COPY services /src/services
# requirements.txt is a constraints file: only what the packages name is installed, at the pinned
# versions. Every service takes the connectors: the pair file's blocks are validated by the model the
# connector of each `kind` registers (sagebridge_common.registry), also where the service calls none.
# The entry point is linked as `sagebridge-service`, so ENTRYPOINT stays exec form without a shell.
RUN /opt/sagebridge/bin/pip install -c /src/requirements.txt \
      /src/libs/common /src/connectors "/src/services/${SERVICE//-/_}" \
 && test -x "/opt/sagebridge/bin/sagebridge-${SERVICE}" \
 && ln -s "sagebridge-${SERVICE}" /opt/sagebridge/bin/sagebridge-service

# --- runtime ---
FROM ${PYTHON_IMAGE}
ARG SERVICE
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/sagebridge/bin:${PATH} \
    SAGEBRIDGE_SCHEMAS_DIR=/app/schemas/avro \
    PAIRS_PATH=/app/pairs \
    OPS_PORT=9400
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# erp-writer and erp-cdc reach the ERP's database through ODBC: unixODBC (the driver manager pyodbc
# loads) with the PostgreSQL (psqlODBC) and SQLite drivers. Production Sage 300 uses Microsoft's
# "ODBC Driver 18 for SQL Server", whose licence must be accepted: build FROM this image and add it
# (README "Sage 300 change capture"). The other services need no system packages.
# DL3008 (pin apt versions) is ignored: Debian replaces a package version in place on each security
# update, so a pinned version stops resolving within weeks; the base image tag pins the release.
# hadolint ignore=DL3008
RUN if [ "${SERVICE}" = erp-writer ] || [ "${SERVICE}" = erp-cdc ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends unixodbc odbc-postgresql libsqliteodbc \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 sagebridge \
 && useradd --system --uid 10001 --gid sagebridge --home-dir /app --shell /usr/sbin/nologin sagebridge

WORKDIR /app
COPY --from=build /opt/sagebridge /opt/sagebridge
# The Avro schema catalogue is read at start-up (installed packages cannot find it by walking up).
COPY schemas/avro /app/schemas/avro
# The pair files (PAIRS_PATH); mount your own over /app/pairs. Credentials in them are ${VAR}
# references filled from the environment or SAGEBRIDGE_SECRETS_DIR, never baked in.
COPY pairs /app/pairs

USER 10001:10001

# 9400: /metrics /healthz /readyz (OPS_PORT); 8080: ingest's webhook listener (HTTP_PORT).
EXPOSE 9400 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OPS_PORT', '9400'), timeout=4)"]

# sagebridge-service -> sagebridge-$SERVICE (linked in the build stage). The `sagebridge` operator CLI
# is installed too (e.g. `sagebridge topics apply` as the entrypoint of a one-shot job).
ENTRYPOINT ["sagebridge-service"]
