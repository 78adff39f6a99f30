# Sourced by scripts/image-check and scripts/images/*: podman with this machine's settings, the
# Debian base image (made by debootstrap, cached), and builds that reach the package registries.
# Image registries cannot be reached here: every base is the Debian base made below.

CACHE=${HEARBACK_TEST_CACHE:-$HOME/.cache/hearback}
SUITE=${HEARBACK_IMAGE_SUITE:-bookworm}
BASE=localhost/hearback-base:$SUITE
# Scratch files of the check (podman's settings, the pip.conf builds see, logs): outside the repo.
STATE=${HEARBACK_IMAGE_STATE:-/tmp/hearback-image-check}
mkdir -p "$STATE"

say() { echo "image-check: $*" >&2; }
die() { echo "image-check: FAILED: $*" >&2; exit 1; }

# This machine's limits: no default ulimits (runc may not raise them), runc with cgroupfs (crun
# refuses the hybrid cgroup layout here). Plain `podman`, as podman-compose calls it, reads these.
cat >"$STATE/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF=$STATE/containers.conf

# Packages from Debian's archive; installed when missing (as scripts/setup installs its own).
need_packages() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (Debian packages)"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >"$STATE/apt.log" 2>&1 || {
    $sudo apt-get update -q >>"$STATE/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >>"$STATE/apt.log" 2>&1; } \
    || die "apt-get install ${missing[*]} failed (see $STATE/apt.log); install them by hand"
}

# The Debian base: debootstrap once into a tarball under $CACHE/images, imported when podman lacks it.
base_image() {
  podman image exists "$BASE" && return 0
  local tarball=$CACHE/images/debian-$SUITE-minbase.tar
  if [ ! -f "$tarball" ]; then
    say "making the Debian $SUITE base with debootstrap (a few minutes)"
    local rootfs=$STATE/rootfs-$SUITE
    rm -rf "$rootfs"
    debootstrap --variant=minbase "$SUITE" "$rootfs" http://deb.debian.org/debian >"$STATE/debootstrap.log" 2>&1 \
      || die "debootstrap failed (see $STATE/debootstrap.log)"
    # Like the official image: the suite, its updates and security fixes; no apt cache kept.
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$CACHE/images"
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  podman import --quiet --change 'CMD ["/bin/bash"]' "$tarball" "$BASE" >/dev/null || die "podman import $tarball failed"
}

# The host's certificate bundle at a path dpkg does not own (mounting it over
# /etc/ssl/certs/ca-certificates.crt breaks packages that own that file), and a pip.conf pointing
# at it; this machine's local wheel folders (the CPU build of torch) when it has them.
build_mounts() {
  local conf=$STATE/pip.conf
  printf '[global]\ncert = /run/hostca.crt\n' >"$conf"
  BUILD_MOUNTS=(--volume /etc/ssl/certs/ca-certificates.crt:/run/hostca.crt:ro --volume "$conf:/etc/pip.conf:ro")
  if [ -d /opt/wheels ]; then
    printf 'find-links = /run/hostwheels\n' >>"$conf"
    BUILD_MOUNTS+=(--volume /opt/wheels:/run/hostwheels:ro)
  fi
}

# build TAG DOCKERFILE CONTEXT [podman build options...]: the log in $STATE/build-TAG.log, the
# seconds it took in BUILD_SECONDS.
build() {
  local tag=$1 file=$2 context=$3; shift 3
  build_mounts
  local log=$STATE/build-${tag//[:\/]/_}.log started=$SECONDS
  say "building $tag from $file (log: $log)"
  podman build --network host "${BUILD_MOUNTS[@]}" --build-arg "BASE=$BASE" -t "$tag" -f "$file" "$@" "$context" >"$log" 2>&1 \
    || { tail -40 "$log" >&2; die "podman build of $file failed (log: $log)"; }
  BUILD_SECONDS=$((SECONDS - started))
}

image_mb() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%d", $1 / 1000000}'; }

# Wall-clock times: now_ms, then `elapsed START_MS` prints the seconds since, to a tenth.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
elapsed() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }
