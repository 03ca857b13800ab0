/**
 * What a browser adds to the demo page's fetch calls, for running
 * web/api-client.js in Node against the Pact mock server: the Origin header of
 * the page on every request but GET/HEAD (SPEC §4 CSRF check), and one cookie
 * kept from Set-Cookie and sent back to the paths its Path attribute covers.
 */

/** The gateway's origin: a browser's POST from the demo page carries it. */
export const webOrigin = 'http://localhost:8080'

/** What the browser keeps of a Set-Cookie: its value and the attributes that decide when it is sent. */
export interface StoredCookie {
  name: string
  value: string
  attributes: Map<string, string>
}

export function parseSetCookie(header: string): StoredCookie {
  const [pair = '', ...rest] = header.split(';')
  const separator = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=')
    attributes.set(key.toLowerCase(), value.join('='))
  }
  return { name: pair.slice(0, separator).trim(), value: pair.slice(separator + 1).trim(), attributes }
}

function pathCovers(cookiePath: string | undefined, path: string): boolean {
  if (!cookiePath) return true
  return path === cookiePath || path.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`)
}

export class BrowserFetch {
  /** The cookie as the browser holds it (null: none). */
  cookie: StoredCookie | null

  constructor(cookie: StoredCookie | null = null) {
    this.cookie = cookie
  }

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input)
    const headers = new Headers(init.headers)
    const method = (init.method ?? 'GET').toUpperCase()
    if (method !== 'GET' && method !== 'HEAD') headers.set('origin', webOrigin)
    if (this.cookie && pathCovers(this.cookie.attributes.get('path'), url.pathname)) headers.set('cookie', `${this.cookie.name}=${this.cookie.value}`)
    const response = await fetch(url, { ...init, headers })
    const setCookie = response.headers.get('set-cookie')
    if (setCookie) {
      const cookie = parseSetCookie(setCookie)
      this.cookie = cookie.value === '' || cookie.attributes.get('max-age') === '0' ? null : cookie
    }
    return response
  }
}
