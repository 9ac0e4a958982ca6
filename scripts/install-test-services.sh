#!/usr/bin/env bash
# The PostgreSQL and Redis tests start throwaway servers on 127.0.0.1 from these binaries
# (test/helpers/postgres.ts, test/helpers/redis.ts). Installs them from Debian's packages when
# missing; no service is started (apt runs with a policy-rc.d that forbids it).
set -euo pipefail
have_pg() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
have_redis() { command -v redis-server >/dev/null; }
if have_pg && have_redis; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-services: postgresql and redis-server are needed (run as root, or apt-get install them)" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
trap '[ "$created" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql redis-server >/dev/null
have_pg && have_redis
