# shellcheck shell=bash disable=SC2154  # root and tools: set by scripts/setup, which sources this
# kube-apiserver, kube-controller-manager and etcd for the operator's integration tests
# (packages/testkit's KubeCluster). envtest's convention comes first: what the folder that
# KUBEBUILDER_ASSETS names holds is used and not built (setup-envtest's folders hold
# kube-apiserver and etcd, not kube-controller-manager). The rest:
#   kube-apiserver, kube-controller-manager  built from source through the Go module proxy
#                                             into tools/bin, once per machine
#   etcd                                      Debian's etcd-server (3.4, which the release
#                                             accepts), else built from the proxy like them
#
#   TRADEPLANE_KUBE_VERSION   Kubernetes release to build (default below)
#   TRADEPLANE_ETCD_VERSION   etcd release to build when Debian's cannot be had
#   TRADEPLANE_SKIP_KUBE=1    skip this step (machines that never run the operator's tests)
#
# A cold build takes about 25 minutes on two busy cores (docs/development.md); Go's module
# and build caches make a rebuild after `rm -rf tools` take under a minute.

kube_version="${TRADEPLANE_KUBE_VERSION:-v1.37.2}"
etcd_version="${TRADEPLANE_ETCD_VERSION:-v3.6.16}"

kube_in_assets() {
  [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/$1" ]
}

kube_need_go() {
  command -v go >/dev/null 2>&1 && return 0
  fail "Go is missing: the operator's tests need kube-apiserver and kube-controller-manager $kube_version
    (and etcd), which scripts/setup builds from source with Go 1.26 or newer. Either
      install Go (https://go.dev/doc/install; Debian's golang-go when it is new enough), or
      point KUBEBUILDER_ASSETS at a folder holding kube-apiserver, kube-controller-manager and etcd
      (for example the one 'setup-envtest use -p path' prints), or
      set TRADEPLANE_SKIP_KUBE=1 on a machine that never runs those tests."
}

# go build a main package of a module pinned in a generated go.mod under tools/kube-build.
#   $1 build dir  $2 go.mod body  $3 package  $4 output binary  $5 ldflags
kube_go_build() {
  local dir="$1" gomod="$2" pkg="$3" out="$4" ldflags="$5"
  mkdir -p "$dir"
  if [ "$(cat "$dir/go.mod.in" 2>/dev/null)" != "$gomod" ]; then
    printf '%s\n' "$gomod" > "$dir/go.mod"
    printf '%s' "$gomod" > "$dir/go.mod.in"
    rm -f "$dir/go.sum"
  fi
  # -mod=mod lets go resolve and record the module graph and checksums itself; the
  # generated go.mod pins the release; GOTOOLCHAIN=local never downloads another Go.
  (cd "$dir" && GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") || return 1
  mv -f "$out.tmp" "$out"
}

# k8s.io/kubernetes points its staging modules (k8s.io/api, client-go, ...) at ./staging
# with replace directives, which do not apply to a dependency: the generated go.mod maps
# every one of them to its published v0.<minor>.<patch> instead.
kube_gomod() {
  local version="$1" staging="v0.${1#v1.}" mod names
  mod="$(cd "$root/tools" && GOTOOLCHAIN=local GOFLAGS='' go mod download -json "k8s.io/kubernetes@$version" 2>/dev/null |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -n "$mod" ] && [ -f "$mod" ] || return 1
  names="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$mod")"
  [ -n "$names" ] || return 1
  echo "module tradeplane.local/kube-build"
  echo
  echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod")"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for name in $names; do echo "	$name => $name $staging"; done
  echo ")"
}

# What `kube-apiserver --version` and /version report (Kubernetes' own build stamps them so).
kube_version_ldflags() {
  local version="$1" minor="${1#v1.}" pkg flags=""
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags="$flags -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

kube_build_control_plane() {
  local component missing=""
  for component in kube-apiserver kube-controller-manager; do
    kube_in_assets "$component" && continue
    # tools/bin/.<component>.version says which release the binary is, so a new default rebuilds it.
    if [ ! -x "$tools/$component" ] || [ "$(cat "$tools/.$component.version" 2>/dev/null)" != "$kube_version" ]; then
      missing="$missing $component"
    fi
  done
  [ -n "$missing" ] || return 0
  kube_need_go
  mkdir -p "$tools"
  local started gomod flags
  started="$(date +%s)"
  say "building$missing $kube_version from the Go module proxy into tools/bin (the first time takes about 25 minutes on two cores)"
  gomod="$(kube_gomod "$kube_version")" || fail "could not read k8s.io/kubernetes@$kube_version's go.mod from the Go module proxy ($(go env GOPROXY)).
    Check the network, or set TRADEPLANE_KUBE_VERSION to a release the proxy serves, or KUBEBUILDER_ASSETS."
  flags="$(kube_version_ldflags "$kube_version")"
  for component in $missing; do
    kube_go_build "$root/tools/kube-build/kubernetes" "$gomod" "k8s.io/kubernetes/cmd/$component" "$tools/$component" "$flags" ||
      fail "building $component $kube_version failed (output above); Go $(go env GOVERSION) may be older than the release needs"
    echo "$kube_version" > "$tools/.$component.version"
  done
  say "built$missing $kube_version in $(($(date +%s) - started)) s"
}

kube_provide_etcd() {
  kube_in_assets etcd && return 0
  [ -x "$tools/etcd" ] && return 0
  command -v etcd >/dev/null 2>&1 && return 0
  apt_install etcd-server && command -v etcd >/dev/null 2>&1 && return 0
  kube_need_go
  local started
  started="$(date +%s)"
  say "Debian's etcd-server cannot be had: building etcd $etcd_version from the Go module proxy into tools/bin"
  kube_go_build "$root/tools/kube-build/etcd" "module tradeplane.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $etcd_version" go.etcd.io/etcd/server/v3 "$tools/etcd" "" ||
    fail "etcd is missing: installing Debian's etcd-server and building etcd $etcd_version both failed (output above)"
  say "built etcd $etcd_version in $(($(date +%s) - started)) s"
}

if [ -n "${TRADEPLANE_SKIP_KUBE:-}" ]; then
  say "TRADEPLANE_SKIP_KUBE is set: not providing kube-apiserver, kube-controller-manager and etcd"
else
  kube_build_control_plane
  kube_provide_etcd
fi
