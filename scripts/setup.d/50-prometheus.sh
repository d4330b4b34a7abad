# promtool (and prometheus) from Debian's prometheus package: the chart tests check the
# alerting rules it ships with `promtool check rules`.
if ! command -v promtool >/dev/null 2>&1; then
  apt_install prometheus || fail "promtool is missing and could not be installed: sudo apt-get install prometheus"
fi
