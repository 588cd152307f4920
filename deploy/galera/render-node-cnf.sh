#!/usr/bin/env bash
# Render node.cnf.template for one Galera node, on standard output.
#
#   render-node-cnf.sh NODE_NAME NODE_ADDRESS > /etc/mysql/mariadb.conf.d/60-galera.cnf
#
# Environment (defaults in brackets):
#   GALERA_CLUSTER_NAME   [atrium-prod]
#   GALERA_NODES          comma-separated addresses of all three nodes, e.g. 10.10.2.11,10.10.2.12,10.10.2.13
#                         (required)
#   GALERA_SST_PASSWORD   the SST user's password (required; keep the rendered file mode 0640 root:mysql)
#   GALERA_BUFFER_POOL    [4G] innodb_buffer_pool_size (about 60-70 % of the node's memory)
#   GALERA_PC_WEIGHT      [1] this node's pc.weight (see the template)
set -euo pipefail

usage() {
    echo "usage: $0 NODE_NAME NODE_ADDRESS  (with GALERA_NODES and GALERA_SST_PASSWORD set)" >&2
    exit 2
}

[ "$#" -eq 2 ] || usage
node_name=$1
node_address=$2
if [ -z "${GALERA_NODES:-}" ]; then
    echo "set GALERA_NODES to the three node addresses, comma-separated" >&2
    exit 2
fi
if [ -z "${GALERA_SST_PASSWORD:-}" ]; then
    echo "set GALERA_SST_PASSWORD (the SST user's password)" >&2
    exit 2
fi
cluster_name=${GALERA_CLUSTER_NAME:-atrium-prod}
buffer_pool=${GALERA_BUFFER_POOL:-4G}
pc_weight=${GALERA_PC_WEIGHT:-1}

for value in "$node_name" "$node_address" "$GALERA_NODES" "$cluster_name" "$buffer_pool" "$pc_weight"; do
    case $value in
        *[!A-Za-z0-9._:,-]*) echo "refusing a value with unexpected characters: $value" >&2; exit 2 ;;
    esac
done
case $GALERA_SST_PASSWORD in
    *[\|\&\\\"\ ]*) echo "GALERA_SST_PASSWORD must not contain | & \\ \" or spaces" >&2; exit 2 ;;
esac
case ",$GALERA_NODES," in
    *",$node_address,"*) ;;
    *) echo "NODE_ADDRESS $node_address is not in GALERA_NODES ($GALERA_NODES)" >&2; exit 2 ;;
esac

template="$(dirname "$0")/node.cnf.template"
sed \
    -e "s|@CLUSTER_NAME@|$cluster_name|g" \
    -e "s|@CLUSTER_ADDRESS@|$GALERA_NODES|g" \
    -e "s|@NODE_NAME@|$node_name|g" \
    -e "s|@NODE_ADDRESS@|$node_address|g" \
    -e "s|@SST_PASSWORD@|$GALERA_SST_PASSWORD|g" \
    -e "s|@BUFFER_POOL_SIZE@|$buffer_pool|g" \
    -e "s|@PC_WEIGHT@|$pc_weight|g" \
    "$template"
