#!/usr/bin/env bash
# docker-entrypoint.sh of the postgres:<major> stand-in that test-machine/setup.sh builds from
# Debian's packages where no registry answers. Test tooling only, never part of a generated
# project. It keeps the official image's interface (docker-library/postgres), written anew:
#
#   POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE   the superuser's password (exactly one of them,
#                                                 or POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_USER[_FILE]      the superuser (default postgres)
#   POSTGRES_DB[_FILE]        a database created on first init (default: the user's name)
#   POSTGRES_INITDB_ARGS[_FILE]   more arguments for initdb
#   POSTGRES_HOST_AUTH_METHOD     the pg_hba method for TCP clients (default scram-sha-256)
#   /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz   run once, on first init, in name order
#
# Started as root, it prepares PGDATA and the socket folder and runs again as postgres;
# started as postgres (no capability needed), it goes straight on. First init runs a
# server on the Unix socket only, so a TCP client (pg_isready -h 127.0.0.1) is only answered
# by the final server, once init is done.
set -Eeuo pipefail

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# from_env_or_file VAR: VAR as given, or read from the file VAR_FILE names; both is an error.
from_env_or_file() {
  local var=$1 file_var=${1}_FILE value
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    die "both $var and $file_var are set, but they are exclusive: set one of them"
  fi
  if [[ -n ${!file_var:-} ]]; then
    [[ -r ${!file_var} ]] || die "$file_var: cannot read ${!file_var} as $(id -un)"
    value=$(<"${!file_var}") # as the official image: trailing newlines dropped
    export "$var=$value"
  fi
  unset "$file_var"
}

# Options that make postgres print something and exit need no data directory.
wants_no_server() {
  local arg
  for arg; do
    case $arg in
    -'?' | --help | --describe-config | -V | --version | -C) return 0 ;;
    esac
  done
  return 1
}

psql_init() { # ARGS...: psql on the socket of the init-only server, stopping at the first error
  psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"
}

run_init_scripts() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e $f ]] || continue
    case $f in
    *.sh)
      if [[ -x $f ]]; then
        log "running $f"
        "$f"
      else
        log "sourcing $f"
        # shellcheck disable=SC1090 # the user's own init script
        . "$f"
      fi
      ;;
    *.sql)
      log "running $f"
      psql_init --dbname "$POSTGRES_DB" -f "$f"
      ;;
    *.sql.gz)
      log "running $f"
      gzip -dc "$f" | psql_init --dbname "$POSTGRES_DB"
      ;;
    *) log "ignoring $f" ;;
    esac
  done
}

init_cluster() {
  local initdb_args auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
    die "the database is uninitialized and no superuser password is set: set" \
      "POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (or POSTGRES_HOST_AUTH_METHOD=trust," \
      "which lets anyone who reaches the port in without a password)"
  fi
  read -ra initdb_args <<<"${POSTGRES_INITDB_ARGS:-}"
  log "initializing $PGDATA for superuser $POSTGRES_USER"
  # initdb's own pg_hba.conf trusts local connections (the socket and loopback), as in the
  # official image; every other host must authenticate.
  if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
    # The password through a pipe: never in a file or on a command line.
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
      "${initdb_args[@]}"
  else
    initdb --username="$POSTGRES_USER" "${initdb_args[@]}"
  fi
  printf '\n# Added by the entrypoint: every other host.\nhost all all all %s\n' "$auth" \
    >>"$PGDATA/pg_hba.conf"

  # Socket only: no TCP client sees a server until init is done.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
  if [[ $POSTGRES_DB != postgres ]]; then
    # psql's :"db" quotes the name as an identifier.
    psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  run_init_scripts
  pg_ctl -D "$PGDATA" -m fast -w stop
  log "init complete; starting the server"
}

main() {
  if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
  if [[ ${1:-} != postgres ]] || wants_no_server "$@"; then exec "$@"; fi

  local var
  for var in POSTGRES_PASSWORD POSTGRES_USER POSTGRES_DB POSTGRES_INITDB_ARGS; do
    from_env_or_file "$var"
  done
  export POSTGRES_USER=${POSTGRES_USER:-postgres}
  export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
  : "${PGDATA:?PGDATA must name the data directory}"

  if [[ $(id -u) == 0 ]]; then
    # Root (with CHOWN, DAC_OVERRIDE, FOWNER, SETUID and SETGID): a bind mount or a fresh
    # tmpfs may belong to root. Then run again as postgres, the password read already.
    mkdir -p "$PGDATA" /var/run/postgresql
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres {} +
    chmod 0700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
  fi

  # As postgres, the volume's top folder (/var/lib/postgresql) must be ours or writable.
  mkdir -p "$PGDATA" || die "cannot create $PGDATA as $(id -un) (uid $(id -u))"
  chmod 0700 "$PGDATA" 2>/dev/null || true
  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    init_cluster
  fi
  # The server needs no password: keep it out of its environment.
  unset POSTGRES_PASSWORD
  exec "$@"
}

main "$@"
