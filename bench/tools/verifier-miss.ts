// Diagnostic: token-verifier's miss path in-process, the verified-token cache on and off, on
// tokens each seen once (`node bench/tools/verifier-miss.ts`; add --cpu-prof for a profile).
import { createAccessTokenVerifier, createRemoteKeySet } from '@todo-auth/token-verifier'
import { startBenchIssuer } from '../lib/issuer.ts'

const count = Number(process.env.TOKENS ?? 40_000)
const inFlight = 32
const issuer = await startBenchIssuer()
const tokens: string[] = []
for (let i = 0; i < count; i += 1) tokens.push(await issuer.sign())
const keySet = createRemoteKeySet({ url: issuer.jwksUrl, algorithms: ['ES256'] })
await keySet.refresh()

async function run(label: string, cache: false | undefined) {
  const verifier = createAccessTokenVerifier({ issuer: issuer.issuer, audience: issuer.audience, keySet, ...(cache === false ? { cache } : {}) })
  for (const half of ['warm-up', 'measured'] as const) {
    const slice = half === 'warm-up' ? tokens.slice(0, count / 2) : tokens.slice(count / 2)
    const cpu = process.cpuUsage()
    const started = process.hrtime.bigint()
    let next = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < slice.length) await verifier.verify(slice[next++]!)
      }),
    )
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const used = process.cpuUsage(cpu)
    if (half === 'measured')
      process.stdout.write(`${label}: ${Math.round(slice.length / seconds)} tokens/s, ${((used.user + used.system) / slice.length).toFixed(1)} µs CPU/token, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB\n`)
  }
}
const order = process.argv[2] === 'off-first' ? (['off', 'on'] as const) : (['on', 'off'] as const)
for (const mode of order) await run(`cache ${mode}`, mode === 'off' ? false : undefined)
await issuer.close()
