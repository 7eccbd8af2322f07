# Reference recipe "uv", for benchmark/run.py only: never part of a
# generated project.
#
# Source: uv's Docker guide (docs.astral.sh/uv/guides/integration/docker/,
# "Intermediate layers", "Compiling bytecode", "Caching") and its
# multi-stage example, multistage.Dockerfile in github.com/astral-sh/uv-docker-example.
# Its method, kept as written: `uv sync --locked --no-install-project --no-dev`
# with the uv cache and bind mounts of pyproject.toml and uv.lock, then
# `COPY . /app` and `uv sync --locked --no-dev` (the project itself, editable);
# a final stage without uv that gets /app (the venv inside) with --chown, runs
# as a non-root user; UV_COMPILE_BYTECODE=1, UV_LINK_MODE=copy,
# UV_PYTHON_DOWNLOADS=0. uv checks every package against uv.lock's hashes.
#
# Adaptations, each forced by this machine or by the benchmark (marked ADAPTED):
#  1. Base image: python:${PYTHON_VERSION}-slim for both stages (the example
#     builds on ghcr.io/astral-sh/uv:python3.12-bookworm-slim and runs on
#     python:3.12-slim-bookworm), so all four recipes share a base.
#  2. uv's image at the version the template copies uv from (0.13.8), as the
#     template copies it (with no registry, test-machine/setup.sh builds the
#     image's stand-in from uv's wheel): no longer an adaptation, kept as written.
#  3. uv.lock: resolved on the host by the benchmark with `uv lock`, its
#     versions pinned to poetry.lock's ([tool.uv] constraint-dependencies in
#     pyproject.toml) and checked equal to them. The project's .dockerignore
#     leaves uv.lock out, so the benchmark gives this Dockerfile its own
#     ignore file (uv.Dockerfile.dockerignore): the project's plus `!uv.lock`.
#  4. The command: gunicorn serving the baked app my_flask_service on port 8888
#     (the example runs `fastapi run`). WORKDIR /app in the final stage so that
#     gunicorn reads the project's gunicorn.conf.py as the template's image does.
#  5. FLASK_SECRET_KEY is passed with `docker run -e` (the app refuses to start
#     without one), as for every recipe.

ARG PYTHON_VERSION=3.11

# ADAPTED (1)
FROM python:${PYTHON_VERSION}-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy

# Disable Python downloads, because we want to use the system interpreter
# across both images.
ENV UV_PYTHON_DOWNLOADS=0

WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --no-dev
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev


# Then, use a final image without uv
FROM python:${PYTHON_VERSION}-slim

# Setup a non-root user
RUN groupadd --system --gid 999 nonroot \
 && useradd --system --gid 999 --uid 999 --create-home nonroot

# Copy the application from the builder
COPY --from=builder --chown=nonroot:nonroot /app /app

# Place executables in the environment at the front of the path
ENV PATH="/app/.venv/bin:$PATH"

# Use the non-root user to run our application
USER nonroot

# ADAPTED (4)
WORKDIR /app
CMD ["gunicorn", "--bind", "0.0.0.0:8888", "my_flask_service:create_app()"]
