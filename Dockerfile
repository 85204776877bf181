# Kedge hub and agent image. Build: docker build -t kedge .
# Run the hub:   docker run kedge kedge-hub --kcp-kubeconfig /etc/kcp/admin.kubeconfig …
# Run an agent:  docker run kedge kedge-agent …
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
# openssl generates the development CA when no serving certificate is given.
RUN apt-get update && apt-get install -y --no-install-recommends openssl ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
COPY config ./config
RUN ln -s /app/bin/kedge-hub.js /usr/local/bin/kedge-hub \
 && ln -s /app/bin/kedge-agent.js /usr/local/bin/kedge-agent \
 && ln -s /app/bin/kedge.js /usr/local/bin/kedge
USER node
ENV KEDGE_DATA_DIR=/home/node/kedge
EXPOSE 8443
ENTRYPOINT ["node"]
CMD ["/app/bin/kedge-hub.js", "--listen-host=0.0.0.0"]
