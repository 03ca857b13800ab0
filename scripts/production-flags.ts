/**
 * Node flags a production service runs with (the Dockerfile's per-service CMD and the bench use these):
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

/**
 * todo-api's own: its peak RSS under the bench load was 170–193 MB with productionNodeFlags, of
 * which about 72 MB are the Node binary's pages, 55–70 MB V8's heap and 20–50 MB malloc'd memory
 * (docs/performance.md, "Memory"). `--no-concurrent-recompilation` compiles hot functions on the
 * main thread: the optimising compilers' zones (18–22 MB at the start of load, kept by the worker
 * threads' malloc arenas) are then made and freed one at a time. `--heap-growing-percent=50`
 * starts a full collection once the old generation has grown by half instead of doubling (its live
 * heap is about 22 MB), and `--max-semi-space-size=2` halves the young generation.
 */
export const todoApiNodeFlags = ['--conditions=todo-auth-dist', '--max-semi-space-size=2', '--heap-growing-percent=50', '--max-old-space-size=96', '--no-concurrent-recompilation'] as const

/**
 * token-service's own: productionNodeFlags peaked at 152–162 MB under the bench's exchange and refresh
 * load (the target is 150 MB). todo-api's two collector flags without its smaller young generation
 * (semi-space 2, which cost token-service 10–47 % more CPU per exchange): `--no-concurrent-recompilation`
 * alone 139–141 MB, `--heap-growing-percent=50` alone 142–143 MB, both 129 MB, CPU per request within
 * the noise of the runs without them (docs/performance.md, "Memory").
 */
export const tokenServiceNodeFlags = ['--conditions=todo-auth-dist', '--max-semi-space-size=4', '--heap-growing-percent=50', '--max-old-space-size=96', '--no-concurrent-recompilation'] as const

/** Each production service's Node flags. */
export const serviceNodeFlags = {
  identity: productionNodeFlags,
  'token-service': tokenServiceNodeFlags,
  'todo-api': todoApiNodeFlags,
} as const satisfies Record<string, readonly string[]>

export type ProductionService = keyof typeof serviceNodeFlags
