# shellcheck shell=bash
# The shellcheck linter: test/scripts/shell-scripts.test.ts lints the project's shell scripts with it
# (scripts/e2e-kind.sh cannot run on our machines, so lint and `bash -n` are its checks here).
# Sourced by scripts/setup.
if ! command -v shellcheck >/dev/null 2>&1; then
  apt_install shellcheck || fail "shellcheck is missing and could not be installed: sudo apt-get install shellcheck"
fi
