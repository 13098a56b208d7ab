# One image recipe for every ArcWatch service (and the simulated fleet). Build from the
# repository root, naming the entry point:
#   docker build -f infra/docker/service.Dockerfile --build-arg ENTRY=services/billing/src/main.ts -t arcwatch/billing .
# Stage 1 keeps only the workspace manifests, so the dependency layer is rebuilt only when they change.
FROM node:24-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o -name package.json -print | xargs -I{} cp --parents {} /manifests/ \
 && cp package-lock.json .npmrc /manifests/

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
# Dev dependencies stay: sources run through tools/register.js, which compiles them with @swc/core.
RUN npm ci --no-audit --no-fund

FROM node:24-bookworm-slim
ARG ENTRY
ENV NODE_ENV=production ENTRY=${ENTRY}
WORKDIR /app
COPY --from=deps /app ./
COPY . .
# The console's web app is built into the image (vite, offline); other entry points skip it.
RUN case "$ENTRY" in services/console/*) npm run build:web ;; esac
# The node agent also as one bundled file (dist/agent/agent.cjs), which its DaemonSet runs with plain node.
RUN case "$ENTRY" in services/agent/*) npm run build:agent ;; esac
# The image's own non-root user; nothing in /app is writable by it.
USER node
# Arguments (compose `command:`) go to the entry point.
ENTRYPOINT ["sh", "-c", "exec node tools/register.js \"$ENTRY\" \"$@\"", "--"]
