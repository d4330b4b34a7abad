# shellcheck shell=bash
# PostgreSQL server binaries (Debian's postgresql package): the journal's integration tests
# and bench:journal start a throwaway server with packages/testkit's PostgresServer, which
# looks for Debian's versioned binaries under /usr/lib/postgresql/*/bin (they are not on
# PATH). The package's service is not needed: the tests run their own server in a temp dir.
postgresql_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
  done
  return 1
}
if ! postgresql_bin; then
  apt_install postgresql || fail "PostgreSQL's server binaries (initdb, postgres) are missing and could not be installed:
    sudo apt-get install postgresql"
  postgresql_bin || fail "postgresql is installed but no /usr/lib/postgresql/*/bin holds initdb and postgres"
fi
