#!/usr/bin/env bash
# Galera health check for HAProxy, clustercheck-style: answers one HTTP request on standard input/output (run by
# systemd socket activation on port 9200: galera-check.socket + galera-check@.service, or by xinetd).
#
#   200 "Galera node is Synced."          wsrep_local_state = 4 (Synced), wsrep_ready = ON, cluster Primary
#   503 "Galera node is not Synced …"     anything else: joining, donor, desynced, non-primary, or MariaDB down
#
# A Donor/Desynced node counts as down (AVAILABLE_WHEN_DONOR=0): with mariabackup SST it could still serve, but
# one writer at a time means nothing is lost by waiting. Set AVAILABLE_WHEN_READONLY=0 to also refuse a node
# with read_only=ON (a node set read-only during maintenance).
#
# Credentials: a client option file readable by the check's user only, e.g. /etc/atrium/galera-check.cnf:
#   [client]
#   user=clustercheck
#   password=…
#   socket=/run/mysqld/mysqld.sock
# with `CREATE USER 'clustercheck'@'localhost' IDENTIFIED BY '…'; GRANT PROCESS ON *.* TO 'clustercheck'@'localhost';`
# (SHOW STATUS needs no privilege; PROCESS is for SHOW GLOBAL VARIABLES on older releases.)
set -uo pipefail

DEFAULTS_FILE=${GALERA_CHECK_DEFAULTS_FILE:-/etc/atrium/galera-check.cnf}
MYSQL_BIN=${GALERA_CHECK_MYSQL:-mariadb}
AVAILABLE_WHEN_DONOR=${AVAILABLE_WHEN_DONOR:-0}
AVAILABLE_WHEN_READONLY=${AVAILABLE_WHEN_READONLY:-1}
TIMEOUT=${GALERA_CHECK_TIMEOUT:-5}

respond() {
    local code=$1 reason=$2 body=$3
    # CRLF line ends, as HTTP wants; Content-Length so HAProxy does not wait for the connection to close.
    printf 'HTTP/1.1 %s %s\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\r\n' \
        "$code" "$reason" "$((${#body} + 2))" "$body"
    exit 0
}

# Read (and ignore) the request line and headers, so the client is not reset before it has sent them.
while IFS= read -r -t 1 line; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
done

query() {
    # One value of SHOW GLOBAL STATUS/VARIABLES, or nothing when MariaDB does not answer.
    local kind=$1 name=$2
    timeout "$TIMEOUT" "$MYSQL_BIN" --defaults-extra-file="$DEFAULTS_FILE" --connect-timeout="$TIMEOUT" \
        --batch --skip-column-names -e "SHOW GLOBAL $kind LIKE '$name'" 2>/dev/null | awk '{print $2}'
}

state=$(query STATUS wsrep_local_state)
ready=$(query STATUS wsrep_ready)
cluster_status=$(query STATUS wsrep_cluster_status)

if [ -z "$state" ]; then
    respond 503 "Service Unavailable" "Galera node is not Synced: MariaDB does not answer."
fi
if [ "$ready" != "ON" ] || [ "$cluster_status" != "Primary" ]; then
    respond 503 "Service Unavailable" "Galera node is not Synced: wsrep_ready=$ready cluster_status=$cluster_status."
fi
if [ "$state" = "4" ] || { [ "$state" = "2" ] && [ "$AVAILABLE_WHEN_DONOR" = "1" ]; }; then
    if [ "$AVAILABLE_WHEN_READONLY" = "0" ] && [ "$(query VARIABLES read_only)" = "ON" ]; then
        respond 503 "Service Unavailable" "Galera node is read-only."
    fi
    respond 200 OK "Galera node is Synced."
fi
respond 503 "Service Unavailable" "Galera node is not Synced: wsrep_local_state=$state."
