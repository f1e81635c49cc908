# syntax=docker/dockerfile:1
#
# Mast's container images, one target each (scripts/images.sh builds them all):
#   docker build --target tracking -t ghcr.io/mast-mlops/tracking:0.1.0 .
# Production targets: gateway (also holds the `mast` CLI for migrations and the web UI), tracking,
# registry, artifact, deploy and model-server (the base deploy builds model images on). Each runs
# `node services/<service>/dist/main.js` from /app as user 1001, listens on 0.0.0.0:$MAST_PORT and
# needs no writable path but /tmp and /data, so it runs with a read-only root file system.
# /app is assembled by scripts/image-contents.sh, the script test/images runs without a Docker engine.
#
# dev (Tilt, tilt/services.tiltfile): the whole workspace, built, with dev dependencies, in /src and
# owned by user 1001 so Tilt can sync into it. It runs `node --watch services/$MAST_SERVICE/dist/main.js`
# (build argument SERVICE, default gateway), which restarts when dist/ changes:
#   docker_build('ghcr.io/mast-mlops/tracking', '.', target='dev', build_args={'SERVICE': 'tracking'},
#                live_update=[sync('services', '/src/services'), sync('proto', '/src/proto'),
#                             run('cd /src && node_modules/.bin/tsc -b services/tracking')])
# (no compiler watches in the container: Tilt runs `tsc -b` after each sync).

# Build: install every dependency from the lockfile and build every workspace (npm run build).
FROM node:22-bookworm-slim AS build
RUN install -d -o 1001 -g 1001 /src
USER 1001:1001
WORKDIR /src
ENV npm_config_cache=/tmp/npm-cache
COPY --chown=1001:1001 package.json package-lock.json ./
COPY --chown=1001:1001 proto/package.json proto/
COPY --chown=1001:1001 services/common/package.json services/common/
COPY --chown=1001:1001 services/tracking/package.json services/tracking/
COPY --chown=1001:1001 services/registry/package.json services/registry/
COPY --chown=1001:1001 services/artifact/package.json services/artifact/
COPY --chown=1001:1001 services/model-server/package.json services/model-server/
COPY --chown=1001:1001 services/deploy/package.json services/deploy/
COPY --chown=1001:1001 services/ui/package.json services/ui/
COPY --chown=1001:1001 services/gateway/package.json services/gateway/
COPY --chown=1001:1001 services/client/package.json services/client/
RUN --mount=type=cache,target=/tmp/npm-cache,uid=1001,gid=1001 \
    npm ci --ignore-scripts --no-audit --no-fund
COPY --chown=1001:1001 . .
RUN npm run build

# What every production image shares: Node 22 LTS, the process's defaults, /app.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production MAST_HOST=0.0.0.0 MAST_PORT=5000
WORKDIR /app

FROM runtime AS gateway
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh gateway /app
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["node", "services/gateway/dist/main.js"]

FROM runtime AS tracking
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh tracking /app
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["node", "services/tracking/dist/main.js"]

FROM runtime AS registry
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh registry /app
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["node", "services/registry/dist/main.js"]

FROM runtime AS artifact
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh artifact /app
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["node", "services/artifact/dist/main.js"]

# The deploy API and its workers (MAST_DEPLOY_WORKERS=true) run from this one image.
FROM runtime AS deploy
ENV MAST_DEPLOY_DATA_DIR=/data/deployments
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh deploy /app
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["node", "services/deploy/dist/main.js"]

# Serves the model in /opt/ml/model on 8080, as @mast/model-server's SERVING_IMAGE_ENV says: deploy
# adds the model as a layer on top of this image.
FROM runtime AS model-server
ENV MAST_PORT=8080 MAST_MODEL_DIR=/opt/ml/model
RUN --mount=type=bind,from=build,source=/src,target=/src \
    --mount=type=cache,target=/root/.npm \
    bash /src/scripts/image-contents.sh model-server /app
USER 1001:1001
EXPOSE 8080
ENTRYPOINT ["node", "services/model-server/dist/main.js"]

FROM build AS dev
ARG SERVICE=gateway
ENV MAST_HOST=0.0.0.0 MAST_PORT=5000 MAST_SERVICE=${SERVICE}
USER 1001:1001
EXPOSE 5000
ENTRYPOINT ["/bin/sh", "-c", "exec node --watch \"services/$MAST_SERVICE/dist/main.js\""]
