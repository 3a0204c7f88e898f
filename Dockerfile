# syntax=docker/dockerfile:1
# One image for every flowql role: `flowql executor ...`, `flowql gateway ...`, `flowql flow ...`.
#
#   docker build -t flowql:latest .
#   docker run --rm flowql:latest executor --uses Executor --host 0.0.0.0 --port 8081
#
# User executors: build FROM this image and copy the project into /app (the working directory,
# on PYTHONPATH), so `uses: my_executors:MyExecutor` and `py_modules: [my_executors.py]` resolve
# there. docs/kubernetes.md shows the pattern.

# ---- build: a wheel of flowql from the sources only --------------------------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY flowql/ flowql/
COPY app/ app/
COPY graph/ graph/
COPY executors/ executors/
COPY client/ client/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 flowql
WORKDIR /app
USER 10001
# The gateway's default HTTP/GraphQL and gRPC ports, and every executor's gRPC port (8081 too:
# one container runs one role). Kubernetes probes them with `grpc:` health checks.
EXPOSE 8080 8081
ENTRYPOINT ["flowql"]
CMD ["--help"]
