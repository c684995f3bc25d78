# HeartBeat's shared collector service (`heartbeat serve`) in a container.
#
#   docker build -t heartbeat .
#   docker run -d -p 127.0.0.1:8787:8787 --env-file heartbeat.env \
#     -v /etc/heartbeat/config.toml:/etc/heartbeat/config.toml:ro heartbeat
#
# Secrets (JWT_SECRET, ENCRYPTION_KEY, HEARTBEAT_METRICS_TOKEN, AWS keys if no
# task or instance role) come from the environment at run time (--env-file,
# the orchestrator's secrets) or a mounted `.env` at /home/heartbeat/.env
# (owned by uid 10001, mode 0600); never from the image. The fleet's TOML is
# mounted read-only at HEARTBEAT_CONFIG. It listens on plain HTTP for a
# TLS-terminating proxy in front (README, "Running the service").

# Pinned by tag: a rebuild gets the same Python until this line changes.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY heartbeat_tui ./heartbeat_tui
COPY themes ./themes
RUN python -m venv /opt/heartbeat \
    && /opt/heartbeat/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/heartbeat \
        --shell /usr/sbin/nologin heartbeat
COPY --from=build /opt/heartbeat /opt/heartbeat
ENV PATH=/opt/heartbeat/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HEARTBEAT_CONFIG=/etc/heartbeat/config.toml
USER 10001:10001
WORKDIR /home/heartbeat
EXPOSE 8787
# Slim images have no curl: Python's urllib asks /health (200 when a poll is
# recent, "ok" or "degraded"; 503 while starting or stale, which fails).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request\ntry:\n    urllib.request.urlopen('http://127.0.0.1:8787/health', timeout=4)\nexcept Exception as error:\n    sys.exit(f'unhealthy: {error}')"]
ENTRYPOINT ["heartbeat"]
CMD ["serve", "--listen", "0.0.0.0:8787", "--insecure-http"]
