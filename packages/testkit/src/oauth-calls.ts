// HTTP calls tests make against running token-service processes (through a gateway or not).
export const exchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange'

export interface TokenReply {
  status: number
  body: { access_token?: string; refresh_token?: string; error?: string; error_description?: string }
  retryAfter: string | null
}

async function post(url: string, params: Record<string, string>, signal?: AbortSignal): Promise<TokenReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
    ...(signal ? { signal } : {}),
  })
  const text = await res.text()
  let body: TokenReply['body'] = {}
  try {
    body = JSON.parse(text) as TokenReply['body']
  } catch {
    body = { error: `not JSON (${res.status})` }
  }
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') }
}

/** RFC 8693 exchange of a BetterAuth JWT for the `cli` client (refresh token in the body). */
export function exchange(base: string, subjectToken: string, signal?: AbortSignal): Promise<TokenReply> {
  return post(`${base}/oauth/token`, { grant_type: exchangeGrant, subject_token: subjectToken, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', client_id: 'cli' }, signal)
}

export function refresh(base: string, refreshToken: string, signal?: AbortSignal): Promise<TokenReply> {
  return post(`${base}/oauth/token`, { grant_type: 'refresh_token', client_id: 'cli', refresh_token: refreshToken }, signal)
}

export function revoke(base: string, token: string): Promise<TokenReply> {
  return post(`${base}/oauth/revoke`, { client_id: 'cli', token })
}

/** The `kid` in a compact JWS header. */
export function kidOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid
}

export async function publishedKids(base: string): Promise<string[]> {
  const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
  return jwks.keys.map((k) => k.kid)
}

export async function admin(adminBase: string, token: string, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${adminBase}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 20 ms until it holds or `timeoutMs` passes; resolves to the elapsed ms, or -1. */
export async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started
    await sleep(20)
  }
  return -1
}

export interface RotationRun {
  /** The kid each rotation made current. */
  rotations: string[]
  /** Attempts refused with 409 because the next key was not published long enough yet. */
  refusals: number
  /** Any other answer ends the run: `rotate → <status>`. */
  failure: string | undefined
  elapsedMs: number
}

/**
 * `count` rotations through the admin API, each as soon as pre-publication
 * allows (a 409 is retried after `retryMs`), taking the instances' admin
 * listeners in turn; bounded by `timeoutMs`.
 */
export async function rotateRepeatedly(adminUrls: readonly string[], token: string, count: number, options: { retryMs?: number; timeoutMs?: number } = {}): Promise<RotationRun> {
  const started = performance.now()
  const run: RotationRun = { rotations: [], refusals: 0, failure: undefined, elapsedMs: 0 }
  for (let turn = 0; run.rotations.length < count && performance.now() - started < (options.timeoutMs ?? 60_000); turn++) {
    const res = await admin(adminUrls[turn % adminUrls.length]!, token, 'POST', '/admin/keys/rotate')
    if (res.status === 200) run.rotations.push((res.body as { current: string }).current)
    else if (res.status === 409) {
      run.refusals++
      await sleep(options.retryMs ?? 250)
    } else {
      run.failure = `rotate → ${res.status}`
      break
    }
  }
  run.elapsedMs = performance.now() - started
  return run
}
