# syntax=docker/dockerfile:1
# One image per Node service; compose builds it three times:
#   docker build -f infra/node-service.Dockerfile --build-arg SERVICE=identity .
# (SERVICE: identity | token-service | todo-api). The build stage installs the
# service and the workspace packages it uses with their dev dependencies (tsc and
# the types it checks against), builds their dist/ with each package's `build`
# script (tsc -b tsconfig.build.json: types checked, relative .ts imports
# rewritten to .js, dist runs without Node's TypeScript stripper, about 20 MB
# less memory), then replaces node_modules by a production-only install. The
# runtime stage copies that tree read-only and runs dist/ as the unprivileged
# `node` user with its serviceNodeFlags (scripts/production-flags.ts;
# docs/performance.md says why each).
#
# Not `pnpm deploy`: it copies workspace packages into node_modules; a filtered
# install links them from packages/ instead, where their dist/ is built.
#
# test/dockerfiles.test.ts replays these steps in a clean clone (no Docker engine there).

ARG NODE_IMAGE=node:24-bookworm-slim
ARG SERVICE

FROM ${NODE_IMAGE} AS build
ARG SERVICE
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.build.base.json ./
COPY packages ./packages
COPY services ./services
RUN test -n "$SERVICE" && test -f "services/$SERVICE/src/server.ts"
RUN npx -y pnpm@10.34.9 install --frozen-lockfile --filter "@todo-auth/$SERVICE..."
RUN npx -y pnpm@10.34.9 --filter "@todo-auth/$SERVICE..." build
RUN rm -rf node_modules packages/*/node_modules services/*/node_modules && npx -y pnpm@10.34.9 install --frozen-lockfile --prod --filter "@todo-auth/$SERVICE..."
RUN rm -rf packages/testkit packages/*/test services/*/test && find services -mindepth 1 -maxdepth 1 ! -name "$SERVICE" -exec rm -rf {} +

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
# Owned by root and not writable by the runtime user: the service cannot modify its own code.
COPY --from=build /app /app
WORKDIR /app/services/${SERVICE}
USER node
CMD ["node", "--conditions=todo-auth-dist", "--max-semi-space-size=4", "--heap-growing-percent=100", "--max-old-space-size=96", "dist/server.js"]

# Each service's Node flags (serviceNodeFlags in scripts/production-flags.ts): the runtime stage's
# CMD, except token-service's and todo-api's own (their memory bounds, docs/performance.md "Memory").
# The last stage is the image: runtime-$SERVICE.
FROM runtime AS runtime-identity
FROM runtime AS runtime-token-service
CMD ["node", "--conditions=todo-auth-dist", "--max-semi-space-size=4", "--heap-growing-percent=50", "--max-old-space-size=96", "--no-concurrent-recompilation", "dist/server.js"]
FROM runtime AS runtime-todo-api
CMD ["node", "--conditions=todo-auth-dist", "--max-semi-space-size=2", "--heap-growing-percent=50", "--max-old-space-size=96", "--no-concurrent-recompilation", "dist/server.js"]

FROM runtime-${SERVICE}
