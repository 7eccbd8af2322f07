# shellcheck shell=bash
# arm64 under emulation, for tests/docker/test_arm64_images.py. Sourced by setup.sh ("up"),
# whose helpers and settings it uses (log, die, quietly, apt_install, WORK, SLIM_DPKG_OPTS,
# python_dockerfile, ...); it starts no process, so "down" has nothing of it to stop.
#
# - QEMU's user-mode aarch64 emulator, registered with binfmt_misc with the F flag (the
#   kernel opens the interpreter at registration, so it runs inside containers too).
# - Where no registry answers (python:$ARM64_PYTHON-slim here is a stand-in), an arm64
#   stand-in for it: the same Debian suite, bootstrapped with mmdebstrap --arch=arm64 (about
#   5 minutes), dressed up by the same python_dockerfile, and tagged $ARM64_STAND_IN. Never
#   python:X-slim: the engine's overlay2 store keeps one image per tag, so that tag would
#   replace the amd64 image other tests build from. Where the official image was pulled, a registry answers
#   and the test builds from the real multi-arch image through buildx instead.
# shellcheck disable=SC2154 # WORK, SLIM_DPKG_OPTS and STAND_IN_LABEL are setup.sh's

# trixie: the Debian release of the official python:*-slim images (Python 3.13 there).
ARM64_PYTHON=${ARM64_PYTHON:-3.13}
ARM64_STAND_IN=poetry-docker/python-arm64:$ARM64_PYTHON-slim
ARM64_LABEL=org.poetry-docker.architecture
# uv's arm64 binaries, for the build to take instead of uv's image (--build-context).
ARM64_UV_STAND_IN=poetry-docker/uv-arm64

ensure_qemu_arm64() {
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if ! command -v qemu-aarch64-static >/dev/null || ! command -v update-binfmts >/dev/null ||
    ! command -v arch-test >/dev/null; then
    # arch-test: mmdebstrap uses it to check that arm64 binaries can run here.
    apt_install qemu-user-static binfmt-support arch-test
  fi
  [[ -e /proc/sys/fs/binfmt_misc/register ]] ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
    die "cannot mount binfmt_misc: arm64 binaries cannot run on this machine"
  [[ -e $entry ]] || quietly update-binfmts --enable qemu-aarch64
  grep -q '^enabled' "$entry" 2>/dev/null || die "qemu-aarch64 is not enabled in $entry"
  grep -q '^flags: .*F' "$entry" || die "qemu-aarch64 lacks binfmt's F flag: containers cannot use it"
}

# True when the local python:X-slim is a stand-in, or missing: no registry answered "up".
python_is_stand_in() {
  local label
  label=$(docker image inspect -f "{{index .Config.Labels \"$STAND_IN_LABEL\"}}" \
    "python:$ARM64_PYTHON-slim" 2>/dev/null) || return 0
  [[ $label == true ]]
}

# Under QEMU, byte-compiling Python's standard library and pip takes minutes, and so does
# hashing the CA certificates. pyc files do not depend on the architecture, and the
# stand-in trusts the host's CA bundle (python_dockerfile), not the package's hashed
# links. So stubs stand in for py_compile and update-ca-certificates while the packages
# install; then the real files come back and the amd64 python:X-slim, the same Python,
# compiles the rootfs's modules natively.
# shellcheck disable=SC2016 # $1 is mmdebstrap's, the rootfs folder
native_work_hooks=(
  --essential-hook='for file in /usr/lib/python'"$ARM64_PYTHON"'/py_compile.py /usr/sbin/update-ca-certificates; do
      dpkg-divert --root="$1" --quiet --no-rename --divert "$file.real" --add "$file"
      mkdir -p "$1${file%/*}"
    done
    printf "import sys\nif sys.argv[1:] == [\"-\"]:\n    sys.stdin.read()\n" >"$1/usr/lib/python'"$ARM64_PYTHON"'/py_compile.py"
    printf "#!/bin/sh\n" >"$1/usr/sbin/update-ca-certificates" && chmod 0755 "$1/usr/sbin/update-ca-certificates"'
  --customize-hook='for file in /usr/lib/python'"$ARM64_PYTHON"'/py_compile.py /usr/sbin/update-ca-certificates; do
      rm "$1$file" && dpkg-divert --root="$1" --quiet --rename --remove "$file"
    done
    docker run --rm --network=none --volume="$1:/target" python:'"$ARM64_PYTHON"'-slim \
      python3 -m compileall -q -j 0 -s /target -p / /target/usr/lib/python'"$ARM64_PYTHON"' /target/usr/lib/python3/dist-packages'
)

build_arm64_stand_in() {
  local image="python:$ARM64_PYTHON-slim" suite ctx=$WORK/stand-in-arm64 base full opts=()
  suite=$(debian_suite "$image") || die "no Debian suite stands in for $image"
  base=poetry-docker/debian-rootfs:$suite-python-arm64
  mkdir -p "$ctx/context"
  command -v mmdebstrap >/dev/null || apt_install mmdebstrap
  [[ $suite == forky ]] && opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
  # As make_rootfs does for amd64, with --arch=arm64: maintainer scripts run under QEMU,
  # but for the two slowest, which stubs replace during the install (native_work_hooks).
  TMPDIR=$WORK quietly mmdebstrap --arch=arm64 --variant=minbase \
    --include="$(stand_in_packages "$image")" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "${SLIM_DPKG_OPTS[@]}" "${opts[@]}" "${native_work_hooks[@]}" "$suite" "$ctx/rootfs.tar"
  # Imported without --platform, the engine records the host's amd64; the binaries
  # in it are aarch64, and the label says so.
  docker import "$ctx/rootfs.tar" "$base" >/dev/null
  rm -f "$ctx/rootfs.tar"
  full=$(docker run --rm "$base" python3 -c 'import platform; print(platform.python_version())')
  [[ $full == "$ARM64_PYTHON".* ]] || die "Debian $suite (arm64) has python $full, not $ARM64_PYTHON"
  cp "$HOST_CA" "$ctx/context/ca-certificates.crt"
  python_dockerfile "$base" "$full" >"$ctx/context/Dockerfile"
  docker build -q --label "$ARM64_LABEL=arm64" -t "$ARM64_STAND_IN" "$ctx/context" >/dev/null
  docker rmi "$base" >/dev/null # only untags: its layer lives on in $ARM64_STAND_IN
  [[ $(docker run --rm "$ARM64_STAND_IN" uname -m) == aarch64 ]] ||
    die "$ARM64_STAND_IN does not run as aarch64"
  docker run --rm "$ARM64_STAND_IN" python -c "import ssl, venv" ||
    die "$ARM64_STAND_IN: python cannot import ssl and venv"
  docker run --rm "$ARM64_STAND_IN" pip download -q --no-deps -d /tmp/x six >/dev/null ||
    die "$ARM64_STAND_IN: pip cannot download from the package index (CA bundle?)"
  log "$ARM64_STAND_IN: arm64 stand-in built from Debian $suite (python $full)"
}

ensure_arm64() {
  ensure_qemu_arm64
  if ! python_is_stand_in; then
    log "python:$ARM64_PYTHON-slim is the official image: buildx builds from its arm64 variant"
    return
  fi
  if docker image inspect "$ARM64_STAND_IN" >/dev/null 2>&1; then
    log "$ARM64_STAND_IN: present"
  else
    build_arm64_stand_in
  fi
  local uv_stand_in
  uv_stand_in=$ARM64_UV_STAND_IN:$(uv_image | sed 's/.*://')
  if docker image inspect "$uv_stand_in" >/dev/null 2>&1; then
    log "$uv_stand_in: present"
  else
    build_uv_stand_in "$(uv_image)" aarch64 "$uv_stand_in"
  fi
}
