// Diagnostic preload for a bench server: BENCH_EXEC_ARGV="--import ./bench/tools/server-memory.mjs".
// Samples process.memoryUsage() every 100 ms and, every 3 s and at exit, appends to
// $SERVER_MEMORY_FILE (default ./server-memory.log) the largest value of each field since the
// start (MB): RSS against V8's heap (total, used), external and array buffers, so a peak RSS can be
// split into V8 heap and everything else. Used for the Memory analysis in docs/performance.md;
// not part of `pnpm bench`'s figures.
import { appendFileSync } from 'node:fs'

const file = process.env.SERVER_MEMORY_FILE ?? 'server-memory.log'
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }
const mb = (bytes) => (bytes / 1048576).toFixed(1)
const sample = () => {
  const now = process.memoryUsage()
  for (const key of Object.keys(peak)) if (now[key] > peak[key]) peak[key] = now[key]
}
const write = () => {
  sample()
  appendFileSync(
    file,
    `pid ${process.pid} peak MB: ${Object.entries(peak)
      .map(([key, value]) => `${key}=${mb(value)}`)
      .join(' ')}\n`,
  )
}
setInterval(sample, 100).unref()
setInterval(write, 3000).unref()
process.on('exit', write)
