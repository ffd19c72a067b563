# shellcheck shell=bash
# Makes sure the local PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) answer:
# starts them when they are installed but stopped, and says exactly what to do when they are missing.

PGHOST_CHECK="${PGHOST_CHECK:-127.0.0.1}"
PGPORT_CHECK="${PGPORT_CHECK:-5432}"
REDIS_HOST_CHECK="${REDIS_HOST_CHECK:-127.0.0.1}"
REDIS_PORT_CHECK="${REDIS_PORT_CHECK:-6379}"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 1 60); do
    port_open "$host" "$port" && return 0
    sleep 0.5
  done
  echo "error: $name did not start listening on $host:$port within 30 s" >&2
  return 1
}

ensure_postgres() {
  port_open "$PGHOST_CHECK" "$PGPORT_CHECK" && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G "/etc/postgresql/*/main" >/dev/null; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "PostgreSQL $version is installed but stopped: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for_port "$PGHOST_CHECK" "$PGPORT_CHECK" PostgreSQL
  else
    echo "error: nothing answers on $PGHOST_CHECK:$PGPORT_CHECK and PostgreSQL is not installed." >&2
    echo "       Install it (apt-get install postgresql) or point TEST_POSTGRES_URL at a server with trust auth." >&2
    return 1
  fi
}

ensure_redis() {
  port_open "$REDIS_HOST_CHECK" "$REDIS_PORT_CHECK" && return 0
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is installed but stopped: starting it"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT_CHECK" --save "" --appendonly no
    wait_for_port "$REDIS_HOST_CHECK" "$REDIS_PORT_CHECK" Redis
  else
    echo "error: nothing answers on $REDIS_HOST_CHECK:$REDIS_PORT_CHECK and Redis is not installed." >&2
    echo "       Install it: apt-get install redis-server" >&2
    return 1
  fi
}

# Waits until the `quickmart up` whose output goes to $1 (process $2) says it is running, at most $3 seconds
# (default 60); prints its log and exits if it stops or does not get there.
wait_for_quickmart_up() {
  local log=$1 pid=$2 tries=$((${3:-60} * 10))
  for _ in $(seq 1 "$tries"); do
    grep -q "QuickMart is running" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
  done
  cat "$log"; exit 1
}
