// Reading a JWKS endpoint's answer: its freshness, its capped body, its failures.

/** A JWKS is a few kilobytes; anything far larger is not one. */
const maxBodyBytes = 1024 * 1024

/**
 * How long a JWKS answer stays fresh: `max-age` capped by `maxMaxAgeMs`, `no-cache`/`no-store` mean 0,
 * `defaultMaxAgeMs` without a max-age.
 */
export function freshnessMs(cacheControl: string | null, { defaultMaxAgeMs, maxMaxAgeMs }: { defaultMaxAgeMs: number; maxMaxAgeMs: number }): number {
  if (cacheControl === null) return defaultMaxAgeMs
  let maxAge: number | null = null
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const d = directive.trim()
    if (d === 'no-store' || d === 'no-cache') return 0
    const match = /^max-age\s*=\s*"?(\d{1,12})"?$/.exec(d)
    if (match) maxAge = Number(match[1]) * 1000
  }
  return maxAge === null ? defaultMaxAgeMs : Math.min(maxAge, maxMaxAgeMs)
}

/** The body as text, refused past {@link maxBodyBytes} (declared or streamed). */
export async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw new Error('JWKS response too large')
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > maxBodyBytes) throw new Error('JWKS response too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A fetch failure as the short message `status.lastError` shows (timeout, or the message and its cause's code). */
export function describeFetchError(error: unknown, timeoutMs: number): Error {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new Error(`JWKS fetch timed out after ${timeoutMs} ms`)
  }
  if (error instanceof Error) {
    const cause = error.cause as { code?: unknown } | undefined
    const code = typeof cause?.code === 'string' ? ` (${cause.code})` : ''
    return new Error(`${error.message}${code}`)
  }
  return new Error('JWKS fetch failed')
}
