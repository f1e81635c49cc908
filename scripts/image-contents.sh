#!/usr/bin/env bash
# Assembles the /app of one Mast image into DIR: the built code (dist/) of the workspaces the target
# runs, their package.json files, the lockfile and the production dependencies of those workspaces
# only (npm ci --omit=dev --workspace ...). The Dockerfile's production stages run this script, and
# test/images runs the same script to test an image's contents without a Docker engine.
# Needs `npm run build` first (dist/ and services/ui/dist).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/image-contents.sh TARGET DIR

Writes the /app of the image TARGET into DIR (created; must be empty).
TARGET: gateway | tracking | registry | artifact | deploy | model-server
EOF
}

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  usage
  exit 0
fi
if (($# != 2)); then
  usage >&2
  exit 2
fi
target=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)

# The workspaces whose processes the image runs; npm adds the @mast workspaces they depend on.
# The gateway image also holds the `mast` CLI (migrations run `mast db upgrade`) and the web UI.
case $target in
  gateway) entries=(services/gateway services/client) ;;
  tracking | registry | artifact | deploy | model-server) entries=("services/$target") ;;
  *)
    echo "image-contents: unknown target '$target'" >&2
    usage >&2
    exit 2
    ;;
esac

for entry in "${entries[@]}"; do
  if [[ ! -f $root/$entry/dist/main.js && ! -f $root/$entry/dist/cli.js ]]; then
    echo "image-contents: $entry/dist is missing; run \`npm run build\` first" >&2
    exit 1
  fi
done
mkdir -p "$out"
if [[ -n $(ls -A "$out") ]]; then
  echo "image-contents: $out is not empty" >&2
  exit 1
fi
out=$(cd "$out" && pwd)

# Every workspace's package.json, so the lockfile matches the workspace list; the ones npm does not
# link are removed once it has installed.
mapfile -t workspaces < <(node -e \
  'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).workspaces.join("\n"))' \
  "$root/package.json")
cp "$root/package.json" "$root/package-lock.json" "$out/"
for workspace in "${workspaces[@]}"; do
  mkdir -p "$out/$workspace"
  cp "$root/$workspace/package.json" "$out/$workspace/"
done

# No install scripts: every production dependency ships its binaries in the package (onnxruntime-node's
# script would download CUDA libraries); npm 10 (Node 22's) and npm 11 install the same tree.
(cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
  "${entries[@]/#/--workspace=}")

linked=$(for link in "$out"/node_modules/@mast/*; do realpath --relative-to="$out" "$link"; done)
for workspace in "${workspaces[@]}"; do
  if ! grep -qx "$workspace" <<<"$linked"; then
    rm -r "${out:?}/$workspace"
    continue
  fi
  # Compiled JavaScript only: declarations, source maps and tsc's build info are for development.
  cp -R "$root/$workspace/dist" "$out/$workspace/dist"
  find "$out/$workspace/dist" \( -name '*.d.ts' -o -name '*.map' -o -name '.tsbuildinfo' \) -delete
  case $workspace in
    services/gateway) cp "$root/$workspace/supergraph.graphql" "$out/$workspace/" ;;
    services/client) cp -R "$root/$workspace/bin" "$out/$workspace/" ;;
  esac
done
if [[ $target == gateway ]]; then
  # The static files the gateway serves at / (services/gateway/src/web-ui.ts: ../../ui/dist).
  mkdir -p "$out/services/ui"
  cp -R "$root/services/ui/dist" "$out/services/ui/dist"
fi

# onnxruntime-node bundles its library for every OS and CPU (~290 MB): keep this machine's only.
ort=$out/node_modules/onnxruntime-node/bin
if [[ -d $ort ]]; then
  platform=$(node -p 'process.platform + "/" + process.arch')
  for dir in "$ort"/napi-v*/*/*; do
    [[ $dir == */$platform ]] || rm -r "$dir"
  done
  find "$ort" -type d -empty -delete
fi
# Type declarations and source maps are a third of node_modules and nothing loads them at run time.
find "$out/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
