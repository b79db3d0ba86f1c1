# syntax=docker/dockerfile:1.7
# Werkvloer gateway: build from the repository root,
#   docker build -f deploy/docker/gateway.Dockerfile -t werkvloer/gateway .
# Only the "gateway" extra is installed; the process runs as a non-root user and writes only to
# the declared volumes, so the root filesystem can be read-only.
# The gateway owns no database: nothing to migrate.

FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir "uv>=0.5,<1"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --extra gateway
COPY kit ./kit
COPY gateway ./gateway
RUN uv sync --frozen --no-dev --extra gateway

FROM python:3.11-slim
RUN groupadd --gid 10001 werkvloer \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin werkvloer \
 && mkdir -p /var/lib/werkvloer && chown 10001:10001 /var/lib/werkvloer
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WERKVLOER_VAR_DIR=/var/lib/werkvloer \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
# Writable paths: var/ (SQLite, embedded index, development secret) and /tmp.
VOLUME ["/var/lib/werkvloer", "/tmp"]
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["python", "-m", "gateway"]
