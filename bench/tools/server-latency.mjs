// Diagnostic preload for a bench server: BENCH_EXEC_ARGV="--import ./bench/tools/server-latency.mjs".
// Every 3 s it appends to $SERVER_LATENCY_FILE (default ./server-latency.log) the p50/p99/max of
// the time from a request's 'request' event to its response's 'finish' (inside the server: no load
// generator, no socket queueing before the request is parsed) and of the event loop's delay.
// Used for the half-peak p99 analysis in docs/performance.md; not part of `pnpm bench`'s figures.
import http from 'node:http'
import { appendFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.SERVER_LATENCY_FILE ?? 'server-latency.log'
const loop = monitorEventLoopDelay({ resolution: 1 })
loop.enable()
let latencies = []
const emit = http.Server.prototype.emit
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request') {
    const started = performance.now()
    args[1].on('finish', () => latencies.push(performance.now() - started))
  }
  return emit.call(this, event, ...args)
}
setInterval(() => {
  if (latencies.length >= 100) {
    latencies.sort((a, b) => a - b)
    const at = (q) => latencies[Math.floor(q * latencies.length)].toFixed(2)
    const ms = (ns) => (ns / 1e6).toFixed(1)
    appendFileSync(
      file,
      `pid ${process.pid} n=${latencies.length} server p50=${at(0.5)} p99=${at(0.99)} max=${latencies.at(-1).toFixed(1)} ms | event-loop delay p50=${ms(loop.percentile(50))} p99=${ms(loop.percentile(99))} max=${ms(loop.max)} ms\n`,
    )
  }
  latencies = []
  loop.reset()
}, 3000).unref()
