import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import t from 'tap'
import { freePort } from '../src/index.ts'

t.test('freePort gives distinct listenable loopback ports below the ephemeral range', async (t) => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()))
  t.ok(
    ports.every((p) => p >= 10_000 && p < low),
    `all in 10000-${low - 1}`,
  )
  t.ok(new Set(ports).size >= 19, 'chosen at random, so they rarely repeat')
  const server = createServer().listen(ports[0], '127.0.0.1')
  await once(server, 'listening')
  t.equal((server.address() as { port: number }).port, ports[0], 'a server can listen on it')
  server.close()
  await once(server, 'close')
})
