# Reference recipe "seed-002", for benchmark/run.py only: never part of a
# generated project.
#
# Source: the write-up "Python Poetry on Docker" (four stages staging /
# development / build / production; /work/shared/seeds/
# seed-002-python-poetry-on-docker.txt). Its method, kept as written: Poetry in
# its own home (POETRY_HOME), the project's sources copied in the staging stage,
# `poetry build --format wheel` and `poetry export --without-hashes` to a
# constraints file in the build stage, and a production stage that pip-installs
# the wheel with those constraints (so every dependency is installed there, by
# pip, after the wheel), run as root through an `eval "exec $@"` entrypoint.
#
# Adaptations, each forced by this machine or by the benchmark (marked ADAPTED):
#  1. Base image: python:${PYTHON_VERSION}-slim for staging and production (the
#     write-up uses the full python:3.10.0 image), so all four recipes share a base.
#  2. Poetry's installer (`curl -sSL .../install-poetry.py | python`) lives on
#     GitHub, which is not reachable here, and the slim image has no curl. It is
#     replaced by what that script does: a venv in $POETRY_HOME with Poetry
#     pip-installed into it, its bin folder on PATH.
#  3. Poetry 2.5.1 (the template's) instead of 1.1.11, which cannot read a
#     PEP 621 pyproject or a lock file of format 2.1. Poetry 2 no longer bundles
#     `export`: poetry-plugin-export is installed beside it.
#  4. This machine's package index answers the simple API only as HTML, which
#     Poetry's own client cannot read: poetry-plugin-pypi-mirror is installed
#     beside Poetry and POETRY_PYPI_MIRROR_URL points at the simple index.
#  5. APP_NAME is the baked project's package, my_flask_service.
#  6. docker/docker-entrypoint.sh, the write-up's two lines (`set -e`,
#     `eval "exec $@"`), is written into the build context by the benchmark.
#  7. FLASK_SECRET_KEY is passed with `docker run -e` (the app refuses to start
#     without one), as for every recipe.

# ADAPTED (1, 3, 5)
ARG APP_NAME=my_flask_service
ARG APP_PATH=/opt/$APP_NAME
ARG PYTHON_VERSION=3.11
ARG POETRY_VERSION=2.5.1

#
# Stage: staging
#
FROM python:${PYTHON_VERSION}-slim AS staging
ARG APP_NAME
ARG APP_PATH
ARG POETRY_VERSION
# ADAPTED (4)
ARG POETRY_PYPI_MIRROR_URL=https://pypi.org/simple/

ENV \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_NO_CACHE_DIR=off \
    PIP_DISABLE_PIP_VERSION_CHECK=on \
    PIP_DEFAULT_TIMEOUT=100 \
    POETRY_VERSION=$POETRY_VERSION \
    POETRY_HOME="/opt/poetry" \
    POETRY_VIRTUALENVS_IN_PROJECT=true \
    POETRY_NO_INTERACTION=1 \
    POETRY_PYPI_MIRROR_URL=$POETRY_PYPI_MIRROR_URL \
    APP_PATH=$APP_PATH
ENV VENV_PATH="$APP_PATH/.venv"
ENV PATH="$POETRY_HOME/bin:$VENV_PATH/bin:$PATH"

# Install Poetry - respects $POETRY_VERSION & $POETRY_HOME
# ADAPTED (2, 3, 4): the write-up's curl | python installer
RUN python -m venv "$POETRY_HOME" \
    && "$POETRY_HOME/bin/pip" install "poetry==$POETRY_VERSION" \
        poetry-plugin-export==1.10.1 poetry-plugin-pypi-mirror==0.6.5

# Import our project files
WORKDIR $APP_PATH
COPY ./poetry.lock ./pyproject.toml ./
COPY ./$APP_NAME ./$APP_NAME

#
# Stage: development (not built by the benchmark, which builds production)
#
FROM staging AS development
ARG APP_NAME
ARG APP_PATH
WORKDIR $APP_PATH
RUN poetry install
ENV FLASK_APP=$APP_NAME \
    FLASK_ENV=development \
    FLASK_RUN_HOST=0.0.0.0 \
    FLASK_RUN_PORT=8888
ENTRYPOINT ["poetry", "run"]
CMD ["flask", "run"]

#
# Stage: build
#
FROM staging AS build
ARG APP_PATH
WORKDIR $APP_PATH
RUN poetry build --format wheel
RUN poetry export --format requirements.txt --output constraints.txt --without-hashes

#
# Stage: production
#
FROM python:${PYTHON_VERSION}-slim AS production
ARG APP_NAME
ARG APP_PATH

ENV \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1

ENV \
    PIP_NO_CACHE_DIR=off \
    PIP_DISABLE_PIP_VERSION_CHECK=on \
    PIP_DEFAULT_TIMEOUT=100

# Get build artifact wheel and install it respecting dependency versions
WORKDIR $APP_PATH
COPY --from=build $APP_PATH/dist/*.whl ./
COPY --from=build $APP_PATH/constraints.txt ./
RUN pip install ./$APP_NAME*.whl --constraint constraints.txt

# export APP_NAME as environment variable for the CMD
ENV APP_NAME=$APP_NAME
# gunicorn port. Naming is consistent with GCP Cloud Run
ENV PORT=8888

# ADAPTED (6): the file comes from the benchmark, not the project
COPY ./docker/docker-entrypoint.sh /docker-entrypoint.sh
RUN chmod +x /docker-entrypoint.sh
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["gunicorn", "--bind :$PORT", "--workers 1", "--threads 1", "--timeout 0", "\"$APP_NAME:create_app()\""]
