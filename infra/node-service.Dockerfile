# syntax=docker/dockerfile:1
# One image per Node service; compose builds it three times:
#   docker build -f infra/node-service.Dockerfile --build-arg SERVICE=identity .
# (SERVICE: identity | token-service | todo-api). The build stage installs the
# service's production dependencies (a filtered pnpm install of the service and
# the workspace packages it uses) and builds dist/ from the TypeScript sources
# with scripts/build.ts (Node's own type stripper, no other tool: dist runs
# exactly as the sources do under Node 24, without loading the stripper, about
# 20 MB less memory). The runtime stage copies that tree read-only and runs
# dist/ as the unprivileged `node` user with scripts/build.ts's
# productionNodeFlags (docs/performance.md says why each).
#
# Not `pnpm deploy`: it copies workspace packages into node_modules; a filtered
# install links them from packages/ instead, where their dist/ is built.
#
# test/dockerfiles.test.ts replays these steps in a clean clone (no Docker engine there).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG SERVICE
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages ./packages
COPY services ./services
RUN test -n "$SERVICE" && test -f "services/$SERVICE/src/server.ts"
RUN npx -y pnpm@10.34.9 install --frozen-lockfile --prod --filter "@todo-auth/$SERVICE..."
RUN rm -rf packages/testkit packages/*/test services/*/test && find services -mindepth 1 -maxdepth 1 ! -name "$SERVICE" -exec rm -rf {} +
COPY scripts/build.ts ./scripts/build.ts
RUN node scripts/build.ts packages/contracts packages/service-config packages/token-verifier "services/$SERVICE" && rm -rf scripts

FROM ${NODE_IMAGE}
ARG SERVICE
# Owned by root and not writable by the runtime user: the service cannot modify its own code.
COPY --from=build /app /app
WORKDIR /app/services/${SERVICE}
USER node
CMD ["node", "--conditions=todo-auth-dist", "--max-semi-space-size=4", "--heap-growing-percent=100", "dist/server.js"]
