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
