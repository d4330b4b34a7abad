# shellcheck shell=bash
# Prometheus and promtool (Debian's prometheus package): the alert-rule unit tests and the
# test that runs every dashboard and alert query against a live local venue, and the chart
# tests (`promtool check rules` on the rules the chart ships).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  apt_install prometheus || fail "prometheus and promtool are missing and could not be installed:
    sudo apt-get install prometheus"
fi
