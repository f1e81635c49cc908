#!/usr/bin/env bash
# Creates the kind cluster `mast` (context kind-mast) with a local registry, as kind's "local registry"
# guide does: a registry container on the `kind` network, published on 127.0.0.1:5001, each node told
# to pull localhost:5001/* and kind-registry:5000/* from it over HTTP, and the KEP-1755 ConfigMap that
# tells Tilt where to push.
set -euo pipefail
cd "$(dirname "$0")"

cluster=mast
registry=kind-registry
registry_image=registry:2.8.3

if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --config cluster.yaml
fi

if [ "$(docker inspect -f '{{.State.Running}}' "$registry" 2>/dev/null || true)" != 'true' ]; then
  docker run -d --restart=always -p 127.0.0.1:5001:5000 --network bridge --name "$registry" "$registry_image"
fi
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$registry")" = 'null' ]; then
  docker network connect kind "$registry"
fi

for node in $(kind get nodes --name "$cluster"); do
  for host in localhost:5001 "$registry:5000"; do
    docker exec "$node" mkdir -p "/etc/containerd/certs.d/$host"
    printf '[host."http://%s:5000"]\n' "$registry" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/$host/hosts.toml"
  done
done

kubectl --context "kind-$cluster" apply -f local-registry-hosting.yaml
