# shellcheck shell=bash
# QuickFIX (C++) and g++: the FIX gateway's interoperability test compiles a small QuickFIX
# initiator (services/fix-gateway/test/integration/quickfix/initiator.cpp) against Debian's
# libquickfix-dev. Sourced by scripts/setup.
if [ ! -f /usr/include/quickfix/Application.h ]; then
  apt_install libquickfix-dev || fail "QuickFIX headers are missing and could not be installed: sudo apt-get install libquickfix-dev"
fi
if ! command -v g++ >/dev/null 2>&1; then
  apt_install g++ || fail "g++ is missing and could not be installed: sudo apt-get install g++"
fi
