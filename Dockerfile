# syntax=docker/dockerfile:1
# Tradeplane's container images: one image per runtime component, built from this one file
# with --target (engine, risk, market-data, fix-gateway, journal, strategy-runtime, operator, cli). Each holds only the production
# dependencies of its own workspace; the base, tini and the source layers are the same.
#
#   docker build --target engine -t tradeplane/engine .        (or: podman build, scripts/images)
#
# The services are TypeScript that Node 24 runs directly (type stripping): there is no
# compile step, and the source keeps the repository's layout under /app, so `proto/` is where
# packages/platform looks for it (DEFAULT_PROTO_ROOT, ../../../proto from its src).
# An npm registry that needs a config (a private mirror, a proxy's CA bundle) is given as the
# build secret `npmrc` (docker build --secret id=npmrc,src=$HOME/.npmrc); it never enters a layer.

# The Node 24 base; any Debian-based Node 24 image with npm and a uid 1000 works.
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. tini, PID 1: forwards SIGTERM to node and reaps zombies (a process that is PID 1 gets
#    no default signal handlers, so a node started that way would ignore an early SIGTERM).
FROM ${NODE_IMAGE} AS init
ARG TINI_VERSION=0.19.0-1+b3
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "tini=${TINI_VERSION}" \
 && rm -rf /var/lib/apt/lists/*

# 2. The package.json of every workspace, alone: the dependency layer below is rebuilt only
#    when one of them (or the lockfile) changes, not on every source change. Whole folders are
#    copied, so a workspace that moves or appears needs no change here.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY packages packages
COPY services services
COPY operator operator
RUN mkdir /manifests \
 && find packages services operator -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests \;

# 3. Production dependencies, one set per component: its workspace's and those of the
#    workspaces it uses, no dev dependencies, no install scripts (the operator's Kubernetes
#    client stays out of the engine's image).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /manifests/ ./
ENV NPM_CI="npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn"

FROM deps AS deps-engine
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/matching && rm -rf /root/.npm

FROM deps AS deps-risk
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/risk && rm -rf /root/.npm

FROM deps AS deps-market-data
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/market-data && rm -rf /root/.npm

FROM deps AS deps-operator
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/operator && rm -rf /root/.npm

FROM deps AS deps-fix-gateway
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/fix-gateway && rm -rf /root/.npm

FROM deps AS deps-journal
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/journal && rm -rf /root/.npm

# `npm ci --omit=dev -w` keeps the workspace's dev dependencies on other workspaces in its
# tree, with their production dependencies (npm marks a package dev only when nothing in
# production reaches it, and the root reaches every workspace): the runtime's test-only
# dependency on the operator brought the Kubernetes client in. Pruned to what the runtime's
# own dependencies reach.
FROM deps AS deps-strategy-runtime
COPY scripts/prune-workspace-deps.mjs /tmp/prune-workspace-deps.mjs
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/strategy-runtime && rm -rf /root/.npm \
 && node /tmp/prune-workspace-deps.mjs @tradeplane/strategy-runtime

FROM deps AS deps-cli
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc $NPM_CI -w @tradeplane/cli && rm -rf /root/.npm

# 4. The runtime base: tini and the service user (uid 1000, `node` in the official image).
#    Nothing is written at run time but logs to stdout; /tmp is the only place a pod may
#    mount a writable volume, and /etc/tradeplane the folder its configuration is mounted on
#    (TP_CONFIG_FILE). Dependencies and source are owned by root, read-only to the user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
RUN mkdir -p /etc/tradeplane
WORKDIR /app
COPY --from=init /usr/bin/tini /usr/bin/tini
USER 1000:1000
LABEL org.opencontainers.image.source="https://github.com/tradeplane/tradeplane" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Tradeplane"

# 5. One target per component: its dependencies, the source, its entrypoint and ports.
FROM runtime AS engine
COPY --from=deps-engine /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-engine" \
      org.opencontainers.image.description="Tradeplane matching engine: one partition's deterministic order books"
EXPOSE 50051 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/matching/src/main.ts"]

FROM runtime AS risk
COPY --from=deps-risk /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-risk" \
      org.opencontainers.image.description="Tradeplane risk gateway: OrderEntry gRPC, pre-trade checks, positions"
EXPOSE 50061 9465
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/risk/src/main.ts"]

FROM runtime AS market-data
COPY --from=deps-market-data /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-market-data" \
      org.opencontainers.image.description="Tradeplane market data: books, trades and bars over gRPC and WebSocket"
EXPOSE 50071 9466 8081
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/market-data/src/main.ts"]

FROM runtime AS operator
COPY --from=deps-operator /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-operator" \
      org.opencontainers.image.description="Tradeplane operator: reconciles TradingVenue and StrategyDeployment"
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "node", "operator/src/main.ts"]

FROM runtime AS fix-gateway
COPY --from=deps-fix-gateway /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-fix-gateway" \
      org.opencontainers.image.description="Tradeplane FIX 4.4 acceptor in front of the risk gateway's OrderEntry"
EXPOSE 9878 9467
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/fix-gateway/src/main.ts"]

FROM runtime AS journal
COPY --from=deps-journal /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-journal" \
      org.opencontainers.image.description="Tradeplane trade journal: the event stream projected into PostgreSQL, JournalQuery gRPC"
EXPOSE 50081 9468
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/journal/src/main.ts"]

FROM runtime AS strategy-runtime
COPY --from=deps-strategy-runtime /app/ ./
COPY proto proto
COPY packages packages
COPY services services
LABEL org.opencontainers.image.title="tradeplane-strategy-runtime" \
      org.opencontainers.image.description="Tradeplane strategy runtime: a StrategyDeployment's built-in strategy against its venue"
EXPOSE 9468
ENTRYPOINT ["/usr/bin/tini", "--", "node", "services/strategy-runtime/src/main.ts"]

FROM runtime AS cli
COPY --from=deps-cli /app/ ./
COPY proto proto
COPY packages packages
COPY services services
COPY operator operator
LABEL org.opencontainers.image.title="tradeplane-cli" \
      org.opencontainers.image.description="The tradeplane command (order entry, venue inspection, administration)"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "packages/cli/bin/tradeplane.mjs"]
