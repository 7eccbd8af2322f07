#!/usr/bin/env bash
# The test machine: set up what the template's Docker tests need, on a bare Debian 12 machine
# with no image registry (CI's) as on a laptop that already has Docker: a Docker 28 engine
# with the Compose 2 and buildx CLI plugins (Debian forky's packages, where none answers);
# the official base images, pulled when a registry answers, otherwise built locally as
# stand-ins from Debian packages; and Podman, which runs the Kubernetes manifests' pod.
#
#   test-machine/setup.sh up       idempotent; every step is skipped when already satisfied
#   test-machine/setup.sh tools    idempotent; the benchmark's load generator, wrk
#   test-machine/setup.sh down     stop only the dockerd that "up" started
#   test-machine/setup.sh status   show what is there
#   test-machine/setup.sh images   list the official images the tests use, one per line
#
# The images: python:<v>-slim for each of PYTHON_VERSIONS (default "3.11 3.13 3.14"), the
# edge proxy's Caddy, as the generated project's docker/edge/Dockerfile names it, uv's, as
# its Dockerfile's COPY --from names it, and the database's PostgreSQL, as its compose.yaml
# names it (database=postgresql). PULL_TIMEOUT (default 60 s) bounds each pull. Test tooling only: nothing here goes into a generated project.
set -euo pipefail

PYTHON_VERSIONS=${PYTHON_VERSIONS:-3.11 3.13 3.14}
# The generated project names its edge proxy's image in this Dockerfile's FROM line.
EDGE_DOCKERFILE="$(dirname "$0")/../{{cookiecutter.app_name}}/docker/edge/Dockerfile"
# ... uv's image in the app's Dockerfile (COPY --from) ...
APP_DOCKERFILE="$(dirname "$0")/../{{cookiecutter.app_name}}/Dockerfile"
# ... and its database's image on the db service of compose.yaml.
COMPOSE_FILE="$(dirname "$0")/../{{cookiecutter.app_name}}/compose.yaml"
# Files of a stand-in's own, such as postgres-entrypoint.sh, live beside this script.
STAND_IN_DIR=$(dirname "$0")
STATE_DIR=${XDG_STATE_HOME:-$HOME/.local/state}/poetry-docker
PID_FILE=$STATE_DIR/dockerd.pid # line 1: PID, line 2: its start time (guards against PID reuse)
LOG_FILE=$STATE_DIR/dockerd.log
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
HOST_CA=/etc/ssl/certs/ca-certificates.crt
STAND_IN_LABEL=org.poetry-docker.stand-in
ENGINE_WAIT=30 # seconds for a fresh dockerd to answer
STOP_WAIT=60   # seconds for dockerd to stop its containers and exit
PULL_TIMEOUT=${PULL_TIMEOUT:-60} # seconds; a registry that answers gets the official image
LOCK_WAIT=900  # seconds to wait for a concurrent up/down (a cold "up" takes ~2 min)
export DEBIAN_FRONTEND=noninteractive

# Same trimming as Debian's slim images (debuerreotype --slimify): no docs, man pages, locales.
SLIM_DPKG_OPTS=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
)

WORK=""
APT_UPDATED=0
VERIFY_NAME="" # containers, network and volume of a stand-in's check, removed on exit

log() { printf '[docker-env] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

cleanup() {
  if [[ -n $VERIFY_NAME ]]; then remove_verify_objects; fi
  # --one-file-system: never descend into anything a killed mmdebstrap left mounted.
  if [[ -n $WORK ]]; then rm -rf --one-file-system "$WORK"; fi
}

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# timed NAME CMD...: run CMD and log how long it took.
timed() {
  local name=$1 start us
  shift
  start=$(now_us)
  "$@"
  us=$(($(now_us) - start))
  log "$(printf '%s: done in %d.%01ds' "$name" $((us / 1000000)) $((us % 1000000 / 100000)))"
}

# quietly CMD...: show CMD's output only when it fails.
quietly() {
  local out=$WORK/quietly.log rc
  "$@" >"$out" 2>&1 || {
    rc=$?
    cat "$out" >&2
    return "$rc"
  }
}

lock_state() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  # Concurrent up/down calls run one after the other.
  flock -w "$LOCK_WAIT" 9 || die "another up/down still holds $STATE_DIR/lock after ${LOCK_WAIT}s"
}

apt_install() {
  if ((!APT_UPDATED)); then
    apt-get update -qq
    APT_UPDATED=1
  fi
  quietly apt-get install -y --no-install-recommends "$@"
}

# ---------------------------------------------------------------- engine

# Docker 28, as users run it, from Debian forky's packages, which need glibc 2.34 (Debian 12
# has 2.36). Each PACKAGE:PREFIX pins the major line: a moved major stops the setup.
ENGINE_PACKAGES=(docker.io:28. docker-cli:28. containerd:2. docker-compose:2. docker-buildx:0.)
ENGINE_SUITE=forky
# Unpacked here, outside dpkg's database: the system's packages are not touched.
ENGINE_DIR=${ENGINE_DIR:-/opt/poetry-docker/engine}
# From Debian 12 itself: forky's runc needs glibc 2.38, and Debian 12's runc 1.1.5 works.
ENGINE_HOST_PACKAGES=(runc iptables tini)

engine_answers() { docker info >/dev/null 2>&1; }

proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# Print the PID of the dockerd that "up" started, if that very process still runs.
our_dockerd_pid() {
  local pid="" start=""
  [[ -f $PID_FILE ]] || return 1
  { read -r pid && read -r start; } <"$PID_FILE" || true
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
  [[ $(proc_start_time "$pid") == "$start" ]] || return 1
  echo "$pid"
}

# A private deb822 list for SUITE: the system's Debian entry minus security, suite replaced.
write_suite_sources() { # SUITE FILE
  local src=/etc/apt/sources.list.d/debian.sources
  [[ -f $src ]] || die "$src not found: cannot derive the Debian mirror to fetch from"
  awk -v RS= -v ORS='\n\n' '!/security/ {print; exit}' "$src" |
    sed "s/^Suites:.*/Suites: $1/" >"$2"
}

# apt-get against private lists and cache: the system apt setup is not touched. forky is
# Debian's testing release, whose Release file on this mirror is past its Valid-Until date.
suite_apt() { # SUITE APT-ARGS...
  local dir=$WORK/apt-$1
  apt-get -o Dir::Etc::sourcelist="$dir/$1.sources" -o Dir::Etc::sourceparts=- \
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache::archives="$dir/archives" \
    -o Acquire::Check-Valid-Until=false "${@:2}"
}

# Download PACKAGE:PREFIX... from SUITE into $WORK/apt-SUITE/debs, each checked against its
# expected version prefix.
download_from_suite() { # SUITE PACKAGE:PREFIX...
  local suite=$1 dir=$WORK/apt-$1 spec name prefix deb version
  mkdir -p "$dir/lists/partial" "$dir/archives/partial" "$dir/debs"
  chown _apt "$dir/debs" 2>/dev/null || true # apt downloads as user _apt when it exists
  write_suite_sources "$suite" "$dir/$suite.sources"
  suite_apt "$suite" -qq update
  shift
  (cd "$dir/debs" && suite_apt "$suite" -qq download "${@%%:*}")
  for spec in "$@"; do
    name=${spec%%:*} prefix=${spec#*:}
    deb=$(compgen -G "$dir/debs/${name}_*.deb") || die "Debian $suite: $name was not downloaded"
    version=$(dpkg-deb -f "$deb" Version)
    [[ $version == "$prefix"* ]] ||
      die "Debian $suite's $name is $version, not $prefix*: its major version moved;" \
        "check that it still runs here, then update ENGINE_PACKAGES in $0"
    log "Debian $suite: $name $version"
  done
}

install_engine() {
  local deb
  apt_install "${ENGINE_HOST_PACKAGES[@]}"
  download_from_suite "$ENGINE_SUITE" "${ENGINE_PACKAGES[@]}"
  rm -rf "$ENGINE_DIR.new"
  mkdir -p "$ENGINE_DIR.new"
  for deb in "$WORK/apt-$ENGINE_SUITE"/debs/*.deb; do dpkg -x "$deb" "$ENGINE_DIR.new"; done
  # dockerd runs docker-init (tini) for `docker run --init`; Debian 12's static tini is it.
  ln -sf /usr/bin/tini-static "$ENGINE_DIR.new/usr/bin/docker-init"
  rm -rf "$ENGINE_DIR"
  mv "$ENGINE_DIR.new" "$ENGINE_DIR" # whole or not at all: a half-unpacked engine never runs
  log "installed Docker $("$ENGINE_DIR/usr/sbin/dockerd" --version | awk '{print $3}' | tr -d ,) into $ENGINE_DIR"
}

start_dockerd() { # prints the new PID
  local pid
  # dockerd finds containerd, its shim and docker-init on PATH: the engine's own first.
  # setsid: the daemon must outlive this script and the terminal or job that ran it.
  # 9>&-: the daemon must not inherit (and hold forever) the state lock.
  PATH=$ENGINE_DIR/usr/sbin:$ENGINE_DIR/usr/bin:$PATH \
    setsid dockerd >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  printf '%s\n%s\n' "$pid" "$(proc_start_time "$pid")" >"$PID_FILE"
  log "started dockerd (pid $pid, log $LOG_FILE)"
  echo "$pid"
}

wait_for_engine() {
  local pid=$1 i
  for ((i = 0; i < ENGINE_WAIT * 2; i++)); do
    engine_answers && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$LOG_FILE" >&2 || true
  die "dockerd (pid $pid) did not answer within ${ENGINE_WAIT}s; log: $LOG_FILE"
}

ensure_engine() {
  local pid
  if engine_answers; then
    if pid=$(our_dockerd_pid); then
      log "engine answers (dockerd pid $pid, started by an earlier 'up')"
    else
      log "engine answers and was not started by this script: leaving it alone"
    fi
    return
  fi
  [[ -x $ENGINE_DIR/usr/sbin/dockerd ]] || install_engine
  # A machine with no docker client gets the engine's.
  command -v docker >/dev/null || ln -s "$ENGINE_DIR/usr/bin/docker" /usr/local/bin/docker
  mkdir -p "$STATE_DIR"
  pid=$(our_dockerd_pid) || pid=$(start_dockerd)
  wait_for_engine "$pid"
}

# ---------------------------------------------------------------- Compose and buildx plugins

# The engine's Compose and buildx, as CLI plugins of whichever docker client is on PATH.
# Without buildx, Compose silently builds with the classic builder, and `RUN --mount` fails.
check_buildkit() {
  local ctx=$WORK/buildkit-check
  mkdir -p "$ctx"
  echo ok >"$ctx/probe"
  printf 'FROM scratch\nCOPY --chmod=0644 probe /probe\n' >"$ctx/Dockerfile"
  if ! docker build --output "type=local,dest=$ctx/out" "$ctx" >"$ctx/log" 2>&1 ||
    [[ ! -f $ctx/out/probe ]]; then
    cat "$ctx/log" >&2
    die "docker build does not build with BuildKit"
  fi
}

ensure_plugins() {
  local plugin
  for plugin in compose buildx; do
    docker "$plugin" version >/dev/null 2>&1 && continue
    [[ -x $ENGINE_DIR/usr/libexec/docker/cli-plugins/docker-$plugin ]] || install_engine
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$ENGINE_DIR/usr/libexec/docker/cli-plugins/docker-$plugin" "$PLUGIN_DIR/"
    log "installed docker-$plugin from $ENGINE_DIR into $PLUGIN_DIR"
  done
  docker compose version >/dev/null || die "docker compose does not work"
  docker buildx version >/dev/null || die "docker buildx does not work"
  check_buildkit
}

# ---------------------------------------------------------------- GitHub's runner user

# The generated workflow's jobs run as GitHub's runner does: UID 1001, in the group that
# owns the engine's socket, with the Compose and buildx plugins in its own Docker config.
RUNNER_USER=runner
RUNNER_UID=1001
ensure_runner_user() {
  local socket=/var/run/docker.sock home plugin path
  # On GitHub's own runner this script already runs as that user.
  if [[ $(id -u) == "$RUNNER_UID" ]]; then
    docker compose version >/dev/null || die "docker compose does not work"
    return
  fi
  getent group docker >/dev/null || groupadd --system docker
  if ! id "$RUNNER_USER" >/dev/null 2>&1; then
    useradd --uid "$RUNNER_UID" --create-home --shell /bin/bash --groups docker "$RUNNER_USER"
    log "added the user $RUNNER_USER (UID $RUNNER_UID) in the group docker"
  fi
  [[ $(id -u "$RUNNER_USER") == "$RUNNER_UID" ]] || die "user $RUNNER_USER exists with another UID than $RUNNER_UID"
  id -nG "$RUNNER_USER" | grep -qw docker || usermod --append --groups docker "$RUNNER_USER"
  # An engine started before the group existed has a root-only socket.
  if [[ $(stat -c %G "$socket") != docker ]]; then
    chgrp docker "$socket" && chmod g+rw "$socket"
  fi
  home=$(getent passwd "$RUNNER_USER" | cut -d: -f6)
  install -d -o "$RUNNER_USER" -g "$RUNNER_USER" "$home/.docker" "$home/.docker/cli-plugins"
  for plugin in compose buildx; do
    path=$(docker info --format "{{range .ClientInfo.Plugins}}{{if eq .Name \"$plugin\"}}{{.Path}}{{end}}{{end}}")
    [[ -n $path ]] || die "docker has no $plugin plugin"
    install -m 0755 -o "$RUNNER_USER" "$path" "$home/.docker/cli-plugins/"
  done
  setpriv --reuid="$RUNNER_UID" --regid="$(id -g "$RUNNER_USER")" --init-groups \
    env HOME="$home" docker compose version >/dev/null ||
    die "the user $RUNNER_USER cannot run docker compose"
}

# ---------------------------------------------------------------- Podman

# No Kubernetes cluster can run here; Podman runs a Deployment's pod from its YAML
# (`podman kube play`) with the securityContext enforced. The tests give it a
# containers.conf of their own (CONTAINERS_CONF), since its default rlimits exceed
# this sandbox's.
ensure_podman() {
  command -v podman >/dev/null || apt_install podman catatonit
  podman --version >/dev/null || die "podman does not work"
}

# ---------------------------------------------------------------- benchmark tools

# benchmark/edge.py loads the app with wrk (Debian's package), bare and behind the edge.
# Only `make benchmark` needs it, so `up` (which the tests run) leaves it out.
ensure_wrk() {
  command -v wrk >/dev/null || apt_install wrk
  command -v wrk >/dev/null || die "wrk is not on PATH after installing it"
}

# ---------------------------------------------------------------- images

# The official images the tests use, as the generated project names them.
official_images() {
  local v
  for v in $PYTHON_VERSIONS; do echo "python:$v-slim"; done
  awk '$1 == "FROM" {print $2; exit}' "$EDGE_DOCKERFILE"
  uv_image
  database_image
}

# uv's official image, as the app's Dockerfile copies uv from it.
uv_image() {
  local image
  image=$(sed -n 's/^COPY --from=\(ghcr\.io\/astral-sh\/uv:[0-9.]*\) .*/\1/p' "$APP_DOCKERFILE")
  [[ -n $image ]] || die "$APP_DOCKERFILE has no 'COPY --from=ghcr.io/astral-sh/uv:<version>' line"
  echo "$image"
}

# The db service's image (quotes dropped), e.g. postgres:18. Once compose.yaml has the
# database answer's block, a missing image line is an error, not a silent skip.
database_image() {
  local image
  image=$(awk '$1 == "image:" { gsub(/["\047]/, "", $2); if ($2 ~ /^postgres:/) { print $2; exit } }' \
    "$COMPOSE_FILE")
  if [[ -n $image ]]; then
    echo "$image"
  elif grep -q 'cookiecutter\.database' "$COMPOSE_FILE"; then
    die "$COMPOSE_FILE has a database block but no 'image: postgres:<tag>' line" \
      "to name the PostgreSQL image (and its stand-in) by"
  fi
}

# The Debian suite whose packages stand in for IMAGE (Python: the same minor version;
# Caddy: the same release line; PostgreSQL: the same major version).
debian_suite() { # IMAGE
  case $1 in
  python:3.11-slim) echo bookworm ;;
  python:3.13-slim) echo trixie ;;
  python:3.14-slim | caddy:2.11-alpine | postgres:18) echo forky ;;
  *) return 1 ;;
  esac
}

stand_in_packages() { # IMAGE
  case $1 in
  python:*) echo python3,python3-venv,python3-pip,ca-certificates ;;
  caddy:*) echo caddy,ca-certificates,libcap2-bin,busybox,curl ;;
  # The standalone systemd helpers satisfy postgresql-common and ssl-cert without systemd.
  postgres:*)
    echo "postgresql-${1#*:},gosu,locales,systemd-standalone-tmpfiles,systemd-standalone-sysusers"
    ;;
  esac
}

# More mmdebstrap options for IMAGE's rootfs, one per line.
stand_in_rootfs_opts() { # IMAGE
  case $1 in
  postgres:*)
    # Before the packages: the official image's postgres user and group, UID and GID 999
    # (postgresql-common's adduser then finds them), and no "main" cluster: as in the
    # official image, the entrypoint creates the only cluster, in PGDATA.
    # shellcheck disable=SC2016 # $1 is mmdebstrap's, the rootfs folder
    printf '%s\n' \
      '--essential-hook=echo "postgres:x:999:" >>"$1/etc/group"' \
      '--essential-hook=echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash" >>"$1/etc/passwd"' \
      '--essential-hook=mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/stand-in.conf"'
    ;;
  esac
}

make_rootfs() { # SUITE TARBALL PACKAGES [MMDEBSTRAP_OPTION...]
  local opts=("${@:4}")
  # The mirror's testing (forky) Release file is past its Valid-Until date.
  [[ $1 == forky ]] && opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
  # TMPDIR inside WORK: whatever mmdebstrap leaves behind goes with our cleanup.
  # merged-usr hook: /usr merged the debootstrap way, so bookworm does not pull usrmerge and perl.
  # minbase: Debian's "required" set, as in the official images (useradd among it).
  TMPDIR=$WORK quietly mmdebstrap --variant=minbase --include="$3" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "${SLIM_DPKG_OPTS[@]}" "${opts[@]}" "$1" "$2"
}

# Debian's python3 and pip dressed up like the official image (paths, env, CMD).
python_dockerfile() { # ROOTFS_IMAGE FULL_VERSION
  cat <<EOF
FROM $1
RUN set -eu; \\
    for link in python:python3 python3:python3 pip:pip3 pip3:pip3; do \\
      name=\${link%:*}; [ -e /usr/local/bin/\$name ] || ln -s /usr/bin/\${link#*:} /usr/local/bin/\$name; \\
    done; \\
    rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
# The host's CA bundle also trusts the TLS-inspecting proxy in front of the package indexes.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PYTHON_VERSION=$2 \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LABEL $STAND_IN_LABEL=true
CMD ["python3"]
EOF
}

# Debian's caddy set up as the official image is (caddy-docker's alpine Dockerfile): the
# same folders, modes and XDG paths, the file capability to bind low ports, wget and curl.
caddy_dockerfile() { # ROOTFS_IMAGE FULL_VERSION
  cat <<EOF
FROM $1
RUN mkdir -p /config/caddy /data/caddy /etc/caddy /usr/share/caddy /srv \\
    && chmod 1777 /config/caddy /data/caddy \\
    && setcap cap_net_bind_service=+ep /usr/bin/caddy \\
    && ln -s /bin/busybox /usr/local/bin/wget
ENV XDG_CONFIG_HOME=/config \\
    XDG_DATA_HOME=/data \\
    CADDY_VERSION=v$2
LABEL $STAND_IN_LABEL=true
EXPOSE 80 443 443/udp 2019
WORKDIR /srv
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
EOF
}

# Debian's PostgreSQL laid out as the official Debian-based image (docker-library/postgres):
# the same user, PATH, PGDATA, VOLUME, socket folder, locale, listen address, signal and port,
# and an entrypoint (postgres-entrypoint.sh) with the same variables.
postgres_dockerfile() { # ROOTFS_IMAGE FULL_VERSION
  local major=${2%%.*}
  cat <<EOF
FROM $1
RUN set -eu; \\
    localedef -i en_US -c -f UTF-8 en_US.UTF-8; \\
    sample=/usr/share/postgresql/$major/postgresql.conf.sample; \\
    sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" "\$sample"; \\
    grep -q "^listen_addresses = '\\*'" "\$sample"; \\
    install -d -o postgres -g postgres -m 3777 /var/run/postgresql; \\
    install -d -o postgres -g postgres -m 0755 /var/lib/postgresql; \\
    mkdir /docker-entrypoint-initdb.d
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/$major/bin \\
    LANG=en_US.utf8 \\
    PG_MAJOR=$major \\
    PG_VERSION=$2 \\
    PGDATA=/var/lib/postgresql/$major/docker
LABEL $STAND_IN_LABEL=true
VOLUME /var/lib/postgresql
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
}

# The version the rootfs really has, to compare with the tag.
stand_in_version() { # IMAGE ROOTFS_IMAGE
  case $1 in
  python:*) docker run --rm "$2" python3 -c 'import platform; print(platform.python_version())' ;;
  caddy:*) docker run --rm "$2" caddy version | sed -n 's/^v\{0,1\}\([0-9.]*\).*/\1/p' ;;
  postgres:*)
    docker run --rm "$2" "/usr/lib/postgresql/${1#*:}/bin/postgres" --version |
      sed -n 's/^postgres (PostgreSQL) \([0-9.]*\).*/\1/p'
    ;;
  esac
}

# The check of the PostgreSQL stand-in: a server started as the generated compose file runs
# its db service (the postgres user, no capability, read-only root, the socket folder and
# /tmp on tmpfs, a named volume, the password as a file), reached over TCP from another
# container as the app reaches it, then restarted on the same volume.
VERIFY_PG_PASSWORD=stand-in-check-Pa55
verify_postgres() { # IMAGE
  local image=$1 dir=$WORK/verify-postgres out
  VERIFY_NAME=poetry-docker-verify-postgres-$$
  # The password's two variables are exclusive, and an uninitialized database needs one.
  out=$(docker run --rm -e POSTGRES_PASSWORD=x -e POSTGRES_PASSWORD_FILE=/x "$image" 2>&1) &&
    die "$image: started with both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE"
  [[ $out == *POSTGRES_PASSWORD\ and\ POSTGRES_PASSWORD_FILE* ]] ||
    die "$image: both password variables set, but the error does not name them: $out"
  out=$(docker run --rm "$image" 2>&1) && die "$image: initialized with no password"
  [[ $out == *POSTGRES_PASSWORD_FILE* ]] || die "$image: no password, but not told so: $out"
  mkdir -p "$dir"
  printf '%s\n' "$VERIFY_PG_PASSWORD" >"$dir/password"
  chmod 0644 "$dir/password" # the bind mount keeps root as owner: UID 999 must read it
  docker network create "$VERIFY_NAME" >/dev/null
  docker volume create "$VERIFY_NAME" >/dev/null
  docker run -d --name "$VERIFY_NAME" --network "$VERIFY_NAME" --user postgres \
    --cap-drop ALL --security-opt no-new-privileges --read-only \
    --tmpfs /var/run/postgresql --tmpfs /tmp -v "$VERIFY_NAME:/var/lib/postgresql" \
    -v "$dir/password:/run/secrets/db_password:ro" \
    -e POSTGRES_PASSWORD_FILE=/run/secrets/db_password -e POSTGRES_USER=app -e POSTGRES_DB=appdb \
    "$image" >/dev/null
  wait_for_postgres "$image"
  out=$(verify_psql "$image" "$VERIFY_PG_PASSWORD" 'SELECT current_database()') ||
    die "$image: psql over TCP with the password failed: $out"
  [[ $out == appdb ]] || die "$image: POSTGRES_DB's database is not there (got: $out)"
  if out=$(verify_psql "$image" wrong-password 'SELECT 1'); then
    die "$image: psql over TCP with a wrong password got in"
  fi
  [[ $out == *"password authentication failed"* ]] ||
    die "$image: a wrong password failed, but not on authentication: $out"
  out=$(verify_psql "$image" "$VERIFY_PG_PASSWORD" "CREATE TABLE kept AS SELECT 'kept' AS v") ||
    die "$image: cannot write over TCP: $out"
  docker restart "$VERIFY_NAME" >/dev/null
  wait_for_postgres "$image"
  out=$(verify_psql "$image" "$VERIFY_PG_PASSWORD" 'SELECT v FROM kept') || true
  [[ $out == kept ]] || die "$image: the data did not survive a restart on its volume: $out"
  remove_verify_objects
}

# psql over TCP from a second container, as the app connects; prints the rows or the error.
verify_psql() { # IMAGE PASSWORD SQL
  docker run --rm --network "$VERIFY_NAME" --user postgres -e PGPASSWORD="$2" "$1" \
    psql -h "$VERIFY_NAME" -U app -d appdb -XAtq -v ON_ERROR_STOP=1 -c "$3" 2>&1
}

# Until pg_isready answers over TCP, which the entrypoint's init-only server never does.
wait_for_postgres() { # IMAGE
  local i
  for ((i = 0; i < 60; i++)); do
    docker exec "$VERIFY_NAME" pg_isready -q -h 127.0.0.1 -U app -d appdb && return 0
    if [[ $(docker inspect -f '{{.State.Running}}' "$VERIFY_NAME") != true ]]; then break; fi
    sleep 0.5
  done
  docker logs "$VERIFY_NAME" 2>&1 | tail -n 20 >&2
  die "$1: pg_isready over TCP did not answer within 30s"
}

remove_verify_objects() {
  docker rm -f "$VERIFY_NAME" >/dev/null 2>&1 || true
  docker network rm "$VERIFY_NAME" >/dev/null 2>&1 || true
  docker volume rm "$VERIFY_NAME" >/dev/null 2>&1 || true
  VERIFY_NAME=""
}

verify_stand_in() { # IMAGE
  case $1 in
  python:*)
    docker run --rm "$1" python -c "import ssl, venv; print(1)" >/dev/null ||
      die "$1: python cannot import ssl and venv"
    docker run --rm "$1" pip download -q --no-deps -d /tmp/x six >/dev/null ||
      die "$1: pip cannot download from the package index (CA bundle?)"
    ;;
  caddy:*)
    docker run --rm "$1" caddy validate --config /etc/caddy/Caddyfile >/dev/null 2>&1 ||
      die "$1: caddy cannot validate its default Caddyfile"
    docker run --rm "$1" wget --help >/dev/null 2>&1 || die "$1: no wget for the healthcheck"
    ;;
  postgres:*) verify_postgres "$1" ;;
  esac
}

build_stand_in() { # IMAGE SUITE
  local image=$1 suite=$2 name=${1%%:*} tag=${1#*:}
  local base="poetry-docker/debian-rootfs:$suite-$name" ctx=$WORK/stand-in-$name-$tag full
  local rootfs_opts
  mkdir -p "$ctx/context"
  command -v mmdebstrap >/dev/null || apt_install mmdebstrap
  mapfile -t rootfs_opts < <(stand_in_rootfs_opts "$image")
  make_rootfs "$suite" "$ctx/rootfs.tar" "$(stand_in_packages "$image")" "${rootfs_opts[@]}"
  docker import "$ctx/rootfs.tar" "$base" >/dev/null
  rm -f "$ctx/rootfs.tar"
  full=$(stand_in_version "$image" "$base")
  # python:3.11-slim needs a 3.11.x, caddy:2.11-alpine a 2.11.x.
  [[ $full == "${tag%%-*}".* ]] || die "Debian $suite has $name $full, not ${tag%%-*}"
  cp "$HOST_CA" "$ctx/context/ca-certificates.crt"
  if [[ -f $STAND_IN_DIR/$name-entrypoint.sh ]]; then
    install -m 0755 "$STAND_IN_DIR/$name-entrypoint.sh" "$ctx/context/docker-entrypoint.sh"
  fi
  "${name}_dockerfile" "$base" "$full" >"$ctx/context/Dockerfile"
  docker build -q -t "$image" "$ctx/context" >/dev/null
  docker rmi "$base" >/dev/null # only untags: its layer lives on in $image
  verify_stand_in "$image"
  log "$image: stand-in built from Debian $suite ($name $full)"
}

# uv's official image is its two static binaries at the root of an empty image. No Debian
# release has uv 0.13, so the stand-in takes the same binaries from uv's wheel on PyPI.
build_uv_stand_in() { # IMAGE MACHINE [TAG_AS]: MACHINE is x86_64 or aarch64
  local image=$1 machine=$2 tag=${3:-$1} version=${1##*:} ctx=$WORK/stand-in-uv-$2 out
  mkdir -p "$ctx/wheel" "$ctx/context"
  quietly python3 -m pip download --no-deps --only-binary=:all: --platform "manylinux_2_17_$machine" \
    --dest "$ctx/wheel" "uv==$version"
  python3 -m zipfile -e "$ctx"/wheel/uv-*.whl "$ctx/wheel/unpacked"
  install -m 0755 "$ctx/wheel/unpacked/uv-$version.data/scripts/uv" \
    "$ctx/wheel/unpacked/uv-$version.data/scripts/uvx" "$ctx/context/"
  # aarch64 binaries run here through QEMU's binfmt entry (arm64.sh).
  out=$("$ctx/context/uv" --version) || die "uv from the $machine wheel does not run"
  [[ $out == "uv $version"* ]] || die "uv's $machine wheel says '$out', not uv $version"
  printf 'FROM scratch\nCOPY uv uvx /\nLABEL %s=true\n' "$STAND_IN_LABEL" >"$ctx/context/Dockerfile"
  docker build -q -t "$tag" "$ctx/context" >/dev/null
  log "$tag: stand-in for $image from uv's $machine wheel on PyPI ($out)"
}

ensure_image() { # IMAGE
  local image=$1 suite
  if docker image inspect "$image" >/dev/null 2>&1; then
    log "$image: present"
  elif timeout "$PULL_TIMEOUT" docker pull -q "$image" >/dev/null 2>&1; then
    log "$image: pulled"
  elif [[ $image == ghcr.io/astral-sh/uv:* ]]; then
    build_uv_stand_in "$image" x86_64
  elif suite=$(debian_suite "$image"); then
    build_stand_in "$image" "$suite"
  else
    log "$image: cannot be pulled and no Debian suite has a stand-in for it: skipped"
  fi
}

# ---------------------------------------------------------------- reporting

image_desc() { # IMAGE -> "python:3.11-slim (stand-in, 123MB)" or nothing if absent
  local size kind
  size=$(docker image inspect -f '{{.Size}}' "$1" 2>/dev/null) || return 1
  kind=official
  [[ $(docker image inspect -f "{{index .Config.Labels \"$STAND_IN_LABEL\"}}" "$1") == true ]] &&
    kind=stand-in
  echo "$1 ($kind, $((size / 1000000))MB)"
}

compose_version() { docker compose version --short 2>/dev/null; }
buildx_version() { docker buildx version 2>/dev/null | awk '{print $2}'; }
engine_version() { docker info --format '{{.ServerVersion}}' 2>/dev/null; }
# `wrk -v` prints its version and exits 1.
wrk_version() { { wrk -v 2>&1 || true; } | awk 'NR == 1 {print $1, $2}'; }

images_desc() {
  local image descs=()
  for image in $(official_images); do
    descs+=("$(image_desc "$image" || echo "$image (missing)")")
  done
  local joined
  printf -v joined '%s, ' "${descs[@]}"
  echo "${joined%, }"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  lock_state
  WORK=$(mktemp -d)
  chmod 0755 "$WORK" # apt's download sandbox user (_apt) must reach it
  trap cleanup EXIT
  local image images
  timed "engine" ensure_engine
  timed "compose+buildx plugins" ensure_plugins
  timed "runner user" ensure_runner_user
  timed "podman" ensure_podman
  # Not in the loop's word list, where a failure (no database image named) would not stop "up".
  images=$(official_images)
  for image in $images; do timed "image $image" ensure_image "$image"; done
  # shellcheck source-path=SCRIPTDIR source=arm64.sh # qemu for arm64 and its base image
  source "$(dirname "$0")/arm64.sh"; timed "arm64 (qemu, base image)" ensure_arm64
  echo "ready: engine $(engine_version), compose $(compose_version), buildx $(buildx_version); images: $(images_desc)"
}

cmd_tools() {
  lock_state
  WORK=$(mktemp -d)
  trap cleanup EXIT
  timed "wrk" ensure_wrk
  echo "ready: $(wrk_version)"
}

cmd_down() {
  lock_state
  local pid i
  if ! pid=$(our_dockerd_pid); then
    rm -f "$PID_FILE"
    log "no dockerd started by this script is running: nothing to stop"
    return
  fi
  kill -TERM "$pid"
  for ((i = 0; i < STOP_WAIT * 2; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log "stopped dockerd (pid $pid)"
      return
    fi
    sleep 0.5
  done
  die "dockerd (pid $pid) still runs after ${STOP_WAIT}s; record kept in $PID_FILE"
}

cmd_status() {
  local pid owner="not started by this script"
  pid=$(our_dockerd_pid) && owner="started by this script, pid $pid"
  if engine_answers; then
    echo "engine:  answering, $(engine_version) ($owner)"
  else
    echo "engine:  not answering"
  fi
  echo "compose: $(compose_version || echo missing)"
  echo "buildx:  $(buildx_version | grep . || echo missing)"
  echo "podman:  $(podman --version 2>/dev/null || echo missing)"
  echo "wrk:     $(command -v wrk >/dev/null && wrk_version || echo missing)"
  if engine_answers; then echo "images:  $(images_desc)"; else echo "images:  unknown (no engine)"; fi
}

case ${1:-} in
up) cmd_up ;;
tools) cmd_tools ;;
down) cmd_down ;;
status) cmd_status ;;
images) official_images ;;
*)
  echo "usage: $0 up|tools|down|status|images" >&2
  exit 2
  ;;
esac
