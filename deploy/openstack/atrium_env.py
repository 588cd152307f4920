#!/usr/bin/env python3
"""Create an Atrium environment on OpenStack from its description in deploy/openstack/environments/ENV.yaml.

    atrium_env.py prod --dry-run              # print the plan; needs no credentials, no network, no openstacksdk
    atrium_env.py prod                        # create what is missing (idempotent: existing objects are kept)
    atrium_env.py prod --region region-b      # the same layout in the standby region

The plan lists, in order: networks and subnets, the router, security groups and their rules, server groups
(anti-affinity), volumes and servers (standard image + cloud-init user data from deploy/openstack/cloud-init/).
A real run imports openstacksdk (`pip install openstacksdk`) and reads credentials from clouds.yaml (the
environment's `cloud:` entry); nothing secret is kept in the environment files.

Needs PyYAML (python3-yaml) for the environment file.
"""

# ruff: noqa: T201  (a command-line tool: it prints its plan)

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ENVIRONMENTS = HERE / "environments"
CLOUD_INIT = HERE / "cloud-init"
REQUIRED = ("name", "cloud", "region", "image", "networks", "security_groups", "servers")


class PlanError(ValueError):
    """The environment description is incomplete or inconsistent."""


@dataclass
class Step:
    """One thing to create: its kind, its name and what it is created with."""

    kind: str
    name: str
    spec: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        details = ", ".join(f"{key}={value}" for key, value in self.spec.items() if key != "user_data_text")
        return f"create {self.kind:<15} {self.name}" + (f"  ({details})" if details else "")


def load_environment(name_or_path: str) -> dict[str, Any]:
    """The environment description: a name (dev, uat, prod) from environments/, or a path to a YAML file."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - PyYAML is on every Atrium host
        raise SystemExit("PyYAML is needed: apt-get install python3-yaml (or pip install PyYAML)") from exc
    path = Path(name_or_path)
    if not path.suffix:
        path = ENVIRONMENTS / f"{name_or_path}.yaml"
    if not path.is_file():
        raise PlanError(f"no environment description at {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise PlanError(f"{path}: expected a mapping at the top level")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise PlanError(f"{path}: missing keys: {', '.join(missing)}")
    return data


def build_plan(env: dict[str, Any], region: str | None = None) -> list[Step]:  # noqa: PLR0912
    """Every object of the environment, in creation order; checks that every reference resolves."""
    name = env["name"]
    networks = {net["name"]: net for net in env["networks"]}
    groups = {group["name"]: group for group in env["security_groups"]}
    steps: list[Step] = []
    region = region or env["region"]

    for net in env["networks"]:
        steps.append(Step("network", net["name"], {"region": region}))
        steps.append(Step("subnet", f"{net['name']}-subnet", {"network": net["name"], "cidr": net["cidr"]}))
    router = env.get("router")
    if router:
        steps.append(
            Step(
                "router",
                router["name"],
                {"external_network": router["external_network"], "subnets": len(networks)},
            )
        )

    for group in env["security_groups"]:
        steps.append(Step("security_group", group["name"], {"description": group.get("description", "")}))
        for rule in group.get("rules", []):
            remote_group = rule.get("remote_group")
            if remote_group and remote_group not in groups:
                raise PlanError(f"security group {group['name']}: unknown remote_group {remote_group}")
            remote = remote_group or rule.get("remote", "0.0.0.0/0")
            port = rule.get("port")
            label = f"{rule['protocol']}/{port}" if port else rule["protocol"]
            steps.append(Step("rule", f"{group['name']}: {label} from {remote}", {}))

    for server in env["servers"]:
        role = server["role"]
        if server["network"] not in networks:
            raise PlanError(f"servers/{role}: unknown network {server['network']}")
        for group_name in server.get("security_groups", []):
            if group_name not in groups:
                raise PlanError(f"servers/{role}: unknown security group {group_name}")
        user_data = CLOUD_INIT / server["user_data"]
        if not user_data.is_file():
            raise PlanError(f"servers/{role}: no cloud-init user data at {user_data}")
        server_group = None
        if server.get("anti_affinity"):
            server_group = f"atrium-{name}-{role}-group"
            steps.append(Step("server_group", server_group, {"policy": "anti-affinity"}))
        for number in range(1, int(server["count"]) + 1):
            host = f"atrium-{name}-{role}-{number}"
            if server.get("volume_gb"):
                steps.append(Step("volume", f"{host}-data", {"size_gb": server["volume_gb"]}))
            spec: dict[str, Any] = {
                "flavor": server["flavor"],
                "image": env["image"],
                "network": server["network"],
                "security_groups": ",".join(server.get("security_groups", [])),
                "user_data": server["user_data"],
            }
            if server_group:
                spec["server_group"] = server_group
            steps.append(Step("server", host, spec))
    return steps


def print_plan(env: dict[str, Any], steps: list[Step], region: str) -> None:
    print(f"# Atrium environment {env['name']}: cloud {env['cloud']}, region {region}")
    for step in steps:
        print(step.describe())
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.kind] = counts.get(step.kind, 0) + 1
    print("# " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))


def apply_plan(env: dict[str, Any], steps: list[Step], region: str) -> None:  # noqa: PLR0912, PLR0915 (one pass over the plan)
    """Create what the plan lists and does not exist yet (looked up by name), with openstacksdk."""
    try:
        import openstack
    except ImportError as exc:
        raise SystemExit("openstacksdk is needed for a real run: pip install openstacksdk") from exc
    conn = openstack.connect(cloud=env["cloud"], region_name=region)
    networks = {net["name"]: net for net in env["networks"]}
    created: dict[str, Any] = {}

    def existing(finder: Any, name: str) -> Any:
        found = finder(name, ignore_missing=True)
        if found is not None:
            print(f"exists  {name}")
        return found

    for net in env["networks"]:
        network = existing(conn.network.find_network, net["name"]) or conn.network.create_network(name=net["name"])
        created[net["name"]] = network
        subnet_name = f"{net['name']}-subnet"
        created[subnet_name] = existing(conn.network.find_subnet, subnet_name) or conn.network.create_subnet(
            name=subnet_name, network_id=network.id, cidr=net["cidr"], ip_version=4
        )
    router_spec = env.get("router")
    if router_spec and not existing(conn.network.find_router, router_spec["name"]):
        external = conn.network.find_network(router_spec["external_network"], ignore_missing=False)
        router = conn.network.create_router(name=router_spec["name"], external_gateway_info={"network_id": external.id})
        for net in networks:
            conn.network.add_interface_to_router(router, subnet_id=created[f"{net}-subnet"].id)
    groups: dict[str, Any] = {}
    new_groups: set[str] = set()
    for group in env["security_groups"]:
        found = existing(conn.network.find_security_group, group["name"])
        if found is None:
            found = conn.network.create_security_group(name=group["name"], description=group.get("description", ""))
            new_groups.add(group["name"])
        groups[group["name"]] = found
    for group in env["security_groups"]:
        if group["name"] not in new_groups:
            continue  # rules of an existing group are left as they are: review them by hand
        for rule in group.get("rules", []):
            args: dict[str, Any] = {
                "security_group_id": groups[group["name"]].id,
                "direction": "ingress",
                "protocol": rule["protocol"],
                "ethertype": "IPv4",
            }
            if rule.get("port"):
                args["port_range_min"] = args["port_range_max"] = rule["port"]
            if rule.get("remote_group"):
                args["remote_group_id"] = groups[rule["remote_group"]].id
            else:
                args["remote_ip_prefix"] = rule.get("remote", "0.0.0.0/0")
            conn.network.create_security_group_rule(**args)
    image = conn.image.find_image(env["image"], ignore_missing=False)
    for step in steps:
        if step.kind == "server_group" and not existing(conn.compute.find_server_group, step.name):
            conn.compute.create_server_group(name=step.name, policies=[step.spec["policy"]])
        elif step.kind == "volume" and not existing(conn.block_storage.find_volume, step.name):
            conn.block_storage.create_volume(name=step.name, size=step.spec["size_gb"])
        elif step.kind == "server" and not existing(conn.compute.find_server, step.name):
            flavor = conn.compute.find_flavor(step.spec["flavor"], ignore_missing=False)
            user_data = (CLOUD_INIT / step.spec["user_data"]).read_text(encoding="utf-8")
            hints = {}
            if step.spec.get("server_group"):
                group = conn.compute.find_server_group(step.spec["server_group"], ignore_missing=False)
                hints["group"] = group.id
            server = conn.create_server(
                name=step.name,
                image=image.id,
                flavor=flavor.id,
                network=created[step.spec["network"]].id,
                security_groups=step.spec["security_groups"].split(","),
                key_name=env.get("keypair"),
                userdata=user_data,
                scheduler_hints=hints or None,
                wait=True,
            )
            volume = conn.block_storage.find_volume(f"{step.name}-data", ignore_missing=True)
            if volume is not None:
                conn.attach_volume(server, volume, wait=True)
            print(f"created {step.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("environment", help="dev, uat, prod, or the path of an environment YAML file")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    parser.add_argument("--region", help="build in this region instead (e.g. the standby region)")
    args = parser.parse_args(argv)
    try:
        env = load_environment(args.environment)
        region = args.region or env["region"]
        steps = build_plan(env, region)
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_plan(env, steps, region)
    if args.dry_run:
        print("# dry run: nothing was created")
        return 0
    apply_plan(env, steps, region)
    return 0


if __name__ == "__main__":
    sys.exit(main())
