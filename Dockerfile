# Kedge images, one target each (docs/images.md):
#   docker build --target kedge-hub   -t kedge-hub .     docker run kedge-hub --kcp-kubeconfig /etc/kcp/admin.kubeconfig …
#   docker build --target kedge-agent -t kedge-agent .   docker run kedge-agent --hub-url … --token-file /run/secrets/join-token
#   docker build --target kedge       -t kedge .         docker run kedge edge list
# (buildah bud --target … the same; hack/images/build.sh builds them FROM a locally made Node 24 base.)
# No shell is needed in the base: every RUN is in exec form, so a distroless-like Node image works as well as node:24.
# The images run as uid 65532, need no writable root filesystem (state and data go to mounted volumes, HOME=/tmp),
# and Node is PID 1: the hub and the agent handle SIGTERM and SIGINT themselves and stop cleanly.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# A registry mirror, and the CA of a TLS-intercepting proxy on the way to it (a build secret, e.g.
# --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt --build-arg NODE_EXTRA_CA_CERTS=/run/secrets/ca).
ARG NPM_CONFIG_REGISTRY
ARG NODE_EXTRA_CA_CERTS
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install`, not `npm ci` (see the Makefile's deps); no install scripts: the `node` dev package is not needed here.
RUN --mount=type=secret,id=ca,target=/run/secrets/ca \
    ["node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN ["node", "node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"]
RUN ["node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "prune", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
COPY config ./config
USER 65532:65532
ENV NODE_ENV=production HOME=/tmp KEDGE_DATA_DIR=/var/lib/kedge

FROM runtime AS kedge-agent
ENTRYPOINT ["node", "/app/bin/kedge-agent.js"]

FROM runtime AS kedge
ENTRYPOINT ["node", "/app/bin/kedge.js"]

# Last, so a build without --target gives the hub.
FROM runtime AS kedge-hub
EXPOSE 8443
ENTRYPOINT ["node", "/app/bin/kedge-hub.js"]
CMD ["--listen-host=0.0.0.0"]
