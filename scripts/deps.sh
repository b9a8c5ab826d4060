#!/bin/sh
# Installs the Debian packages laws needs, only those missing (quick when all is there).
# Never installs luajit / libluajit-5.1-dev: they conflict with nginx's lua module (luajit2).
set -e
PKGS="build-essential pkg-config lua5.4 liblua5.4-dev libcurl4-openssl-dev libssl-dev ca-certificates
lua-cjson lua-expat lua-busted lua-check lua-luv openssl curl procps
luajit2 libluajit2-5.1-dev lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev
nginx libnginx-mod-http-lua lua-resty-core"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The stand-in of AWS verifies signatures with botocore. A python3 that already imports it
# (e.g. a pyenv Python first on PATH) is used as is; otherwise Debian's python3-botocore.
if ! python3 -c 'import botocore' 2>/dev/null; then
  if ! dpkg-query -W -f='${Status}' python3-botocore 2>/dev/null | grep -q "ok installed"; then
    echo "deps: python3 cannot import botocore; installing python3-botocore"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-botocore
  fi
fi
if ! python3 -c 'import moto' 2>/dev/null; then
  echo "deps: note: python3 ($(command -v python3)) cannot import moto; the moto specs will fail and say so."
  echo "deps:       moto is not packaged by Debian: pip install 'moto[server]'"
fi
