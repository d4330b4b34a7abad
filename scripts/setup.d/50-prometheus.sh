# prometheus and promtool from Debian's prometheus package: the chart tests check the
# alerting rules with promtool, and run every dashboard and alert query on a real Prometheus.
if ! command -v promtool >/dev/null 2>&1; then
  apt_install prometheus || fail "promtool is missing and could not be installed: sudo apt-get install prometheus"
fi
