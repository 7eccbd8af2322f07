# Reference recipe "seed-000", for benchmark/run.py only: never part of a
# generated project.
#
# Source: the write-up "Docker multi-stage build with Poetry"
# (/work/shared/seeds/seed-000-docker-multistage-poetry.txt; code at
# github.com/skhaz/poetry-on-docker). Its method, kept as written: Poetry is
# pip-installed into the same venv the app's dependencies go to
# (`virtualenvs.create false`), `poetry install --no-root --only main`, that
# whole venv (Poetry included) is copied into the final stage, the sources are
# copied as a plain folder, and gunicorn binds to $PORT from a shell-form CMD.
#
# Adaptations, each forced by this machine or by the benchmark (marked ADAPTED):
#  1. Base image: python:${PYTHON_VERSION}-slim (the write-up's python:3.11-slim
#     with the version as a build argument), so all four recipes share a base.
#  2. The write-up names a `builder` stage (COPY --from=builder) without showing
#     its FROM line: it is `FROM base AS builder` here.
#  3. Poetry is pinned to the template's version (the write-up installs the
#     latest), so every recipe runs the same Poetry.
#  4. This machine's package index answers the simple API only as HTML, which
#     Poetry's own client cannot read: poetry-plugin-pypi-mirror is installed
#     beside Poetry and POETRY_PYPI_MIRROR_URL points at the simple index.
#  5. Poetry 2 ignores `virtualenvs.create false` for a venv it is not running
#     from unless VIRTUAL_ENV names it: without it the dependencies land in the
#     system interpreter and never reach the final stage. VIRTUAL_ENV=/opt/venv.
#  6. The app: the write-up serves `app.main:app` from ./app; here the baked
#     project's package my_flask_service, through its factory. PORT=8888 is set
#     in the image (the write-up's CMD reads $PORT; its compose file sets it).
#  7. FLASK_SECRET_KEY is passed with `docker run -e` (the app refuses to start
#     without one), as for every recipe.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS base
ENV PATH /opt/venv/bin:$PATH
# ADAPTED (6)
ENV PORT=8888

# ADAPTED (2)
FROM base AS builder
# ADAPTED (3, 4)
ARG POETRY_VERSION=2.5.1
ARG POETRY_PYPI_MIRROR_URL=https://pypi.org/simple/
ENV POETRY_PYPI_MIRROR_URL=${POETRY_PYPI_MIRROR_URL}
# ADAPTED (5)
ENV VIRTUAL_ENV=/opt/venv
WORKDIR /opt
RUN python -m venv venv
RUN pip install poetry==${POETRY_VERSION} poetry-plugin-pypi-mirror==0.6.5
COPY pyproject.toml poetry.lock ./
RUN poetry config virtualenvs.create false
RUN poetry install --no-interaction --no-root --only main

FROM base
WORKDIR /opt
COPY --from=builder /opt/venv venv
# ADAPTED (6): the write-up's `COPY app app`
COPY my_flask_service my_flask_service
CMD exec gunicorn --bind :$PORT "my_flask_service:create_app()"
