/**
 * A small client of the admin API (SPEC §9) for the operator command. The
 * token goes only into the Authorization header: never into a URL, a log or
 * an error message.
 */
export interface AdminClient {
  request(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }>
}

export function createAdminClient(options: { url: string; token: string; timeoutMs?: number; fetch?: typeof globalThis.fetch }): AdminClient {
  const base = options.url.replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch
  return {
    async request(method, path) {
      const res = await doFetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      })
      const text = await res.text()
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body }
    },
  }
}
