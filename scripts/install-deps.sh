#!/usr/bin/env bash
# Installs (via apt, and npm for the node test client) everything uniqgate needs to
# build, test and benchmark. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev libssl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libmariadb-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev
  mariadb-server mariadb-client sysbench haproxy
  php-cli php-mysql python3-pymysql libmariadb-java default-jdk-headless nodejs npm
  openssl socat
)

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# nodejs/npm may come from outside Debian on some images; a working node counts.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for pkg in "${missing[@]}"; do [ -n "$pkg" ] && filtered+=("$pkg"); done
if [ "${#filtered[@]}" -gt 0 ]; then
  echo "install-deps: installing ${filtered[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
fi

# node mysql2 for the integration tests (npm registry), pinned by package-lock.json.
if [ -f tests/integration/clients/node/package.json ] && [ ! -d tests/integration/clients/node/node_modules/mysql2 ]; then
  (cd tests/integration/clients/node && npm ci --no-audit --no-fund --silent)
fi
echo "install-deps: all dependencies present"
