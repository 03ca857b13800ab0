import { connect, type Socket } from 'node:net'
import type { LoadResult } from './load.ts'

export interface PacedOptions {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  /** Request bodies taken in turn. */
  bodies?: readonly string[]
  /** Rotation chains, as in runLoad: each request spends a pooled token, each 200 returns its successor. */
  chains?: { seeds: readonly string[]; bodyPrefix: string }
  /** Requests per second, sent at evenly spaced instants. */
  rate: number
  durationSec: number
  /** Keep-alive connections at most. */
  connections: number
}

/**
 * An open-loop load at a constant rate (what wrk2 does; neither wrk nor autocannon can: autocannon's
 * rate lets each connection burst until its per-second quota is spent). Latency is measured from the
 * instant a request was due, not from when a free connection sent it, so queueing behind a slow
 * answer is counted (no coordinated omission).
 *
 * It shares 2 cores with the server it measures, so it does as little as it can per request: HTTP/1.1
 * over raw keep-alive sockets, each request's bytes written in one call, an answer read up to its
 * Content-Length (the servers measured here always send one; anything else counts as an error).
 * node:http's client cost about 4× the CPU per request, and its own delays showed in the p99.
 */
export async function runPaced(options: PacedOptions): Promise<LoadResult & { starved: number }> {
  const url = new URL(options.url)
  const head = (length: number | undefined) =>
    `${options.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    Object.entries(options.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    (length !== undefined ? `content-length: ${length}\r\n` : '') +
    '\r\n'
  const fixed = !options.bodies && !options.chains ? Buffer.from(head(undefined)) : undefined
  const pool = options.chains ? [...options.chains.seeds] : []
  const latencies: number[] = []
  const due: number[] = []
  let dueHead = 0
  let non2xx = 0
  let errors = 0
  let starved = 0
  let next = 0
  let inFlight = 0

  /** The next request's bytes, or undefined when every chain is waiting for its answer. */
  function requestBytes(): Buffer | undefined {
    if (fixed) return fixed
    let body: string
    if (options.chains) {
      const token = pool.shift()
      if (token === undefined) return undefined
      body = options.chains.bodyPrefix + token
    } else body = options.bodies![next++ % options.bodies!.length]!
    return Buffer.from(head(Buffer.byteLength(body)) + body)
  }

  interface Connection {
    socket: Socket
    busy: boolean
    dueAt: number
    buffer: Buffer
  }
  const idle: Connection[] = []

  function dispatch() {
    while (dueHead < due.length && idle.length > 0) {
      const bytes = requestBytes()
      if (bytes === undefined) {
        starved += 1
        dueHead += 1
        continue
      }
      const connection = idle.pop()!
      connection.busy = true
      connection.dueAt = due[dueHead++]!
      inFlight += 1
      connection.socket.write(bytes)
    }
  }

  function finish(connection: Connection, status: number, body: Buffer | undefined) {
    latencies.push(performance.now() - connection.dueAt)
    inFlight -= 1
    connection.busy = false
    if (status < 200 || status > 299) non2xx += 1
    else if (options.chains && body) {
      const token = /"refresh_token":"([A-Za-z0-9_-]+)"/.exec(body.toString('latin1'))?.[1]
      if (token) pool.push(token)
    }
    idle.push(connection)
    dispatch()
  }

  /** Consumes whole answers from the connection's buffer. */
  function onData(connection: Connection, chunk: Buffer) {
    connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk])
    for (;;) {
      const end = connection.buffer.indexOf('\r\n\r\n')
      if (end < 0) return
      const headers = connection.buffer.toString('latin1', 0, end)
      const status = Number(headers.slice(9, 12))
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1]
      if (length === undefined) {
        // Chunked or unframed: not something these servers send; count it and drop the connection.
        errors += 1
        connection.socket.destroy()
        return
      }
      const total = end + 4 + Number(length)
      if (connection.buffer.length < total) return
      const body = connection.buffer.subarray(end + 4, total)
      connection.buffer = connection.buffer.subarray(total)
      finish(connection, status, body)
    }
  }

  const connections: Connection[] = []
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true })
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
      const connection: Connection = { socket, busy: false, dueAt: 0, buffer: Buffer.alloc(0) }
      socket.on('data', (chunk: Buffer) => onData(connection, chunk))
      socket.on('error', () => undefined)
      socket.on('close', () => {
        if (connection.busy) {
          connection.busy = false
          inFlight -= 1
          errors += 1
        }
        const at = idle.indexOf(connection)
        if (at >= 0) idle.splice(at, 1)
      })
      connections.push(connection)
      idle.push(connection)
    }),
  )

  const started = performance.now()
  const total = Math.floor(options.rate * options.durationSec)
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const count = Math.min(total, Math.floor(((now - started) / 1000) * options.rate))
      while (due.length < count) due.push(started + (due.length * 1000) / options.rate)
      dispatch()
      if (due.length >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  const deadline = performance.now() + 10_000
  while ((inFlight > 0 || dueHead < due.length) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  const elapsed = (performance.now() - started) / 1000
  for (const connection of connections) connection.socket.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), non2xx, errors: errors + inFlight + (due.length - dueHead), requests: latencies.length, engine: 'paced', starved }
}
