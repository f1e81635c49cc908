#!/usr/bin/env bash
# Builds Mast's container images from the root Dockerfile, one target per image, tagged
# ghcr.io/mast-mlops/<target>:<version> (the version of the target's package). Needs a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(gateway tracking registry artifact deploy model-server)

usage() {
  cat <<EOF
Usage: npm run images [-- TARGET...]   (scripts/images.sh [TARGET...])

Builds the images of the given targets (default: all of ${targets[*]})
with \`docker build --target TARGET -t ghcr.io/mast-mlops/TARGET:VERSION .\`, VERSION being the
version in services/TARGET/package.json. The Dockerfile's dev target is Tilt's (see its header).
Needs a running Docker engine with BuildKit.
EOF
}

if [[ ${1:-} == --help || ${1:-} == -h ]]; then
  usage
  exit 0
fi
if (($#)); then
  for target in "$@"; do
    if [[ ! " ${targets[*]} " == *" $target "* ]]; then
      echo "images: unknown target '$target' (one of: ${targets[*]})" >&2
      exit 2
    fi
  done
  targets=("$@")
fi
if ! docker info >/dev/null 2>&1; then
  echo "images: a Docker engine is needed to build the images (\`docker info\` failed)" >&2
  exit 1
fi

for target in "${targets[@]}"; do
  version=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version' \
    "services/$target/package.json")
  image=ghcr.io/mast-mlops/$target:$version
  echo "== $image"
  DOCKER_BUILDKIT=1 docker build --target "$target" -t "$image" .
done
