// Diagnostic: two token-service builds side by side, the same load alternated between them in short
// rounds, so that the VM's drift (its speed moves by ±15 % within minutes) falls on both alike.
//
//   node bench/tools/token-service-pair.ts refresh|exchange [other checkout]
//
// Side A is this checkout's dist/, side B the other checkout's (a `git worktree` of another commit,
// installed and built), or this one again: an A/A pair, which shows the harness's own noise.
// BENCH_EXEC_ARGV_A / BENCH_EXEC_ARGV_B add Node flags to one side (e.g. a heap flag), PAIR_ROUNDS
// (default 8) and PAIR_SECONDS (default 3) size the rounds. Prints each side's CPU µs per request
// (all threads, from /proc) and req/s, round by round, their medians, and in how many rounds B was
// cheaper. Both processes run on prefixes of the machine's Redis.
import { join, resolve } from 'node:path'
import { createTestRedisPrefix, startIdentity } from '@todo-auth/testkit'
import type { LoadResult } from '../lib/load.ts'
import { spawnBenchTokenService, tokenServiceLoad } from '../lib/services.ts'

const path = process.argv[2] === 'exchange' ? 'exchange' : 'refresh'
const root = join(import.meta.dirname, '..', '..')
const otherRoot = process.argv[3] ? resolve(process.argv[3]) : root
const rounds = Number(process.env.PAIR_ROUNDS ?? 8)
const durationSec = Number(process.env.PAIR_SECONDS ?? 3)

const identity = await startIdentity()
interface Side {
  name: string
  cpu: number[]
  rps: number[]
  run: () => Promise<LoadResult & { cpuUsPerReq: number | null }>
  stop: () => Promise<void>
}
const sides: Side[] = []
try {
  const jwts: string[] = []
  for (let i = 0; i < 8; i += 1) jwts.push((await identity.signUp()).jwt)
  for (const [name, sideRoot] of [
    ['A', root],
    ['B', otherRoot],
  ] as const) {
    const { prefix, cleanup } = createTestRedisPrefix(`pair-${name}`)
    // serverExecArgv() reads BENCH_EXEC_ARGV when the process is spawned.
    process.env.BENCH_EXEC_ARGV = process.env[`BENCH_EXEC_ARGV_${name}`] ?? ''
    const service = await spawnBenchTokenService(sideRoot, identity, { redisPrefix: prefix })
    // Listed before anything else can fail, so `finally` stops it.
    const side: Side = {
      name: `${name} (${sideRoot === root ? 'this checkout' : sideRoot})`,
      cpu: [],
      rps: [],
      run: () => Promise.reject(new Error('no load yet')),
      stop: async () => {
        await service.stop()
        await cleanup()
      },
    }
    sides.push(side)
    const load = await tokenServiceLoad(service, jwts, { connections: 32, durationSec, notes: [] })
    side.run = () => load[path]()
  }
  for (const side of sides) await side.run()
  for (let round = 0; round < rounds; round += 1) {
    // Each round in the other order than the one before, so neither side always runs first.
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const result = await side.run()
      side.cpu.push(result.cpuUsPerReq ?? Number.NaN)
      side.rps.push(result.rps)
    }
  }
  const median = (values: readonly number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN
  const list = (values: readonly number[]) => values.map((v) => v.toFixed(0)).join(' ')
  for (const side of sides) {
    process.stdout.write(`${side.name} ${path}: CPU µs/req median ${median(side.cpu).toFixed(1)} [${list(side.cpu)}], req/s median ${median(side.rps).toFixed(0)} [${list(side.rps)}]\n`)
  }
  const [a, b] = sides
  if (a && b) {
    const cheaper = b.cpu.filter((cpu, i) => cpu < (a.cpu[i] ?? Number.NaN)).length
    const faster = b.rps.filter((rps, i) => rps > (a.rps[i] ?? Number.NaN)).length
    process.stdout.write(`B cheaper than A in ${cheaper} of ${rounds} rounds, faster in ${faster}\n`)
  }
} finally {
  for (const side of sides) await side.stop()
  await identity.close()
}
