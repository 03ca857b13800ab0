import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { randomInt } from 'node:crypto'

/**
 * The low end of the kernel's ephemeral range, where every outgoing connection of every process
 * takes its local port. A port picked by listen(0) comes from that range too, so between the pick
 * and the server's own listen (a restart, a child process starting) any client socket on the machine
 * could take it: a stack test once died on EADDRINUSE that way. Test servers listen below it.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 12_000 ? low : 32_768
  } catch {
    return 32_768
  }
}

const range = { low: 10_000, high: ephemeralLow() - 1 }

async function canListen(port: number): Promise<boolean> {
  const server = createServer()
  server.listen(port, '127.0.0.1')
  try {
    await once(server, 'listening')
  } catch {
    return false
  }
  server.close()
  await once(server, 'close')
  return true
}

/** A loopback port free right now, outside the ephemeral range (so no client socket takes it before use), chosen at random so parallel test files rarely meet. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(range.low, range.high + 1)
    if (await canListen(port)) return port
  }
  throw new Error(`no free port in ${range.low}-${range.high} after 100 tries`)
}
