import { isIP } from 'node:net'

/** A check of one value, with what it expects in words ("an IP address or CIDR") for messages and docs. */
export interface Validator {
  readonly expects: string
  test(value: string): boolean
}

/**
 * `10.0.0.1`, `::1`, `10.0.0.0/8`: what proxy-addr (Fastify's trustProxy) takes as an address;
 * nothing it would read as a name or a hop count, so a word like `true` is refused here rather
 * than half-parsed there.
 */
export function isAddressOrCidr(entry: string): boolean {
  const [address, bits, ...rest] = entry.split('/')
  if (rest.length > 0 || address === undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

/**
 * An absolute URL whose protocol (with its colon, `https:`) is one of `protocols`. Surrounding
 * whitespace is refused: the URL parser would drop it, but the value is used as written.
 */
export function isUrl(value: string, protocols: readonly string[] = ['http:', 'https:']): boolean {
  if (value !== value.trim()) return false
  try {
    return protocols.includes(new URL(value).protocol)
  } catch {
    return false
  }
}

/** `scheme://host[:port]` over http(s) and nothing else: no path, query or wildcard (what an Origin header carries). */
export function isOrigin(value: string): boolean {
  return isUrl(value) && !value.includes('*') && new URL(value).origin === value
}

export interface HostPort {
  readonly host: string
  readonly port: number
}

/** `host:port` or `[ipv6]:port`, port 1–65535; undefined for anything else. */
export function parseHostPort(entry: string): HostPort | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(entry)
  if (!match) return undefined
  const host = match[1] ?? match[2]!
  const port = Number(match[3])
  if (port < 1 || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) return undefined
  return { host, port }
}
