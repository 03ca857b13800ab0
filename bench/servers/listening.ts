import type { AddressInfo } from 'node:net'

/** The line packages/testkit's spawnService waits for. */
export function announce(address: AddressInfo | string | null, listener = 'public'): void {
  const port = typeof address === 'object' && address ? address.port : 0
  process.stdout.write(`${JSON.stringify({ event: 'listening', listener, url: `http://127.0.0.1:${port}` })}\n`)
}

// SIGTERM ends the process normally, so --cpu-prof and other exit-time reports get written.
process.once('SIGTERM', () => process.exit(0))
