# shellcheck shell=bash
# podman, buildah and runc build and run the container images (scripts/images and the image
# tests); debootstrap makes the local Node base image where none can be pulled. Debian's
# packages; scripts/podman/containers.conf selects runc and cgroupfs.
for pkg in podman buildah runc debootstrap; do
  bin="$pkg"
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    apt_install "$pkg" || fail "$pkg is missing and could not be installed: sudo apt-get install podman buildah runc debootstrap"
  fi
done
