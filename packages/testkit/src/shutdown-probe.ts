import { once } from 'node:events'
import type { SpawnedService } from './spawn-service.ts'

export interface ShutdownProbe {
  /** ms from SIGTERM until the first readiness URL answered 503 (-1: never within 2 s). */
  notReadyAfterMs: number
  /** What each readiness URL answered once the first had turned 503. */
  readiness: { url: string; status: number; retryAfter: string | null; contentType: string | null; body: unknown }[]
  /** What each `served` URL got after readiness had turned 503, the process still draining. */
  served: { url: string; status: number; connection: string | null }[]
  /** ms from SIGTERM until the process exited, and its exit code. */
  exitedAfterMs: number
  exitCode: number | string | null
}

/**
 * Sends SIGTERM to a service started with SHUTDOWN_DRAIN > 0 and records what a gateway would see:
 * the readiness URLs (the first polled until it answers 503), then one request per `served` URL,
 * then the exit.
 */
export async function probeShutdown(service: SpawnedService, urls: { readiness: string[]; served: string[] }): Promise<ShutdownProbe> {
  const exited = once(service.child, 'exit') as Promise<[number | null, string | null]>
  const signalledAt = performance.now()
  service.child.kill('SIGTERM')
  let notReadyAfterMs = -1
  while (performance.now() - signalledAt < 2000) {
    const res = await fetch(urls.readiness[0]!)
    await res.arrayBuffer()
    if (res.status === 503) {
      notReadyAfterMs = performance.now() - signalledAt
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const readiness: ShutdownProbe['readiness'] = []
  for (const url of urls.readiness) {
    const res = await fetch(url)
    const text = await res.text()
    readiness.push({ url, status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type'), body: JSON.parse(text) as unknown })
  }
  const served: ShutdownProbe['served'] = []
  for (const url of urls.served) {
    const res = await fetch(url)
    await res.arrayBuffer()
    served.push({ url, status: res.status, connection: res.headers.get('connection') })
  }
  const [code, signal] = await exited
  return { notReadyAfterMs, readiness, served, exitedAfterMs: performance.now() - signalledAt, exitCode: code ?? signal }
}
