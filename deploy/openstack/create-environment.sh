#!/usr/bin/env bash
# Create (or complete) an Atrium environment on OpenStack: networks, router, security groups, server groups,
# volumes and servers, from deploy/openstack/environments/ENV.yaml.
#
#   deploy/openstack/create-environment.sh prod --dry-run      # the plan only: no credentials, no network
#   OS_CLOUD=atrium-prod deploy/openstack/create-environment.sh prod
#   deploy/openstack/create-environment.sh prod --region region-b   # the standby region
#
# A real run needs openstacksdk (pip install openstacksdk, in a virtualenv of its own) and the environment's
# clouds.yaml entry; it asks for confirmation unless --yes is given. Existing objects (by name) are kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}

if [ "$#" -lt 1 ]; then
    echo "usage: $0 ENV [--dry-run] [--region REGION] [--yes]" >&2
    exit 2
fi
env_name=$1
shift

dry_run=0
assume_yes=0
args=()
while [ "$#" -gt 0 ]; do
    case $1 in
        --dry-run) dry_run=1; args+=(--dry-run) ;;
        --yes) assume_yes=1 ;;
        --region) [ "$#" -ge 2 ] || { echo "--region needs a value" >&2; exit 2; }; args+=(--region "$2"); shift ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done

case $env_name in
    dev|uat|prod) ;;
    *) [ -f "$env_name" ] || { echo "unknown environment: $env_name (dev, uat, prod or a YAML file)" >&2; exit 2; } ;;
esac

if [ "$dry_run" -eq 0 ]; then
    # Show the plan first, then ask.
    "$python" "$here/atrium_env.py" "$env_name" --dry-run "${args[@]+"${args[@]}"}"
    if [ "$assume_yes" -eq 0 ]; then
        read -r -p "Create the missing objects above in $env_name? [y/N] " answer
        case $answer in
            y|Y|yes) ;;
            *) echo "nothing created"; exit 1 ;;
        esac
    fi
fi
exec "$python" "$here/atrium_env.py" "$env_name" "${args[@]+"${args[@]}"}"
