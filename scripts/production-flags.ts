/**
 * Node flags a production service runs with (the Dockerfiles' CMD and the bench use these):
 * dist/ for workspace packages, and a young generation of at most 3 × 4 MB. V8's default lets it grow
 * to 3 × 16 MB under load, and with 32 requests in flight each scavenge then copies several MB
 * of live request state (pauses of 7–11 ms) and promotes it, so the old generation fills with
 * garbage between full collections: about 100 MB more RSS per service for a few % more req/s.
 *
 * `--max-old-space-size=96` caps the old generation (about 4 × the live heap of either service):
 * without it todo-api's RSS still crept up round after round of load (159 → 166 → 183 MB in the
 * soak, BENCH_ONLY=soak); with it 177 → 186 → 186 MB, token-service 145 → 147 → 147 MB
 * (docs/performance.md, "Soak").
 *
 * `--conditions=todo-auth-dist` makes workspace packages resolve to their built dist/ (their
 * `exports`): run `node --conditions=todo-auth-dist dist/server.js` after `pnpm build`.
 */
export const productionNodeFlags = ['--conditions=todo-auth-dist', '--max-semi-space-size=4', '--heap-growing-percent=100', '--max-old-space-size=96'] as const
