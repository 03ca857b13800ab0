// Diagnostic: one token-service path under load, for profiling (`node bench/tools/token-service-path.ts refresh|exchange`).
// BENCH_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" writes the server's profile; prints req/s and CPU µs per request.
import { join } from 'node:path'
import { createTestRedisPrefix, startIdentity } from '@todo-auth/testkit'
import { spawnBenchTokenService, tokenServiceLoad } from '../lib/services.ts'

const path = process.argv[2] === 'exchange' ? 'exchange' : 'refresh'
const durationSec = Number(process.env.BENCH_DURATION ?? 8)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32)
const rate = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined
const root = join(import.meta.dirname, '..', '..')
const identity = await startIdentity()
const { prefix, cleanup } = createTestRedisPrefix('bench')
const service = await spawnBenchTokenService(root, identity, { redisPrefix: prefix })
const notes: string[] = []
try {
  const jwts: string[] = []
  for (let i = 0; i < 8; i += 1) jwts.push((await identity.signUp()).jwt)
  const load = await tokenServiceLoad(service, jwts, { connections, durationSec, notes })
  for (const label of ['warm-up', 'measured']) {
    const result = await load[path](rate)
    process.stdout.write(
      `${label} ${path}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, CPU ${result.cpuUsPerReq?.toFixed(1)} µs/req, non-2xx ${result.non2xx}, errors ${result.errors}\n`,
    )
  }
} finally {
  await service.stop()
  await identity.close()
  await cleanup()
}
for (const note of notes) process.stdout.write(`note: ${note}\n`)
