/** A body that is not valid application/x-www-form-urlencoded: 400 invalid_request. */
class MalformedFormError extends Error {
  readonly statusCode = 400
  readonly code = 'ERR_MALFORMED_FORM'
  constructor() {
    super('malformed form body')
    this.name = 'MalformedFormError'
  }
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '))
  } catch {
    throw new MalformedFormError()
  }
}

/**
 * A strict application/x-www-form-urlencoded parser for @fastify/formbody:
 * bad percent-encoding (or encoded bytes that are not UTF-8) is an error
 * rather than being passed through, and a repeated name collects its values
 * in an array so the endpoint can refuse it (RFC 6749 §3.2).
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq === -1 ? pair : pair.slice(0, eq))
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1))
    const previous = out[name]
    if (previous === undefined) out[name] = value
    else out[name] = Array.isArray(previous) ? [...previous, value] : [previous, value]
  }
  return out
}
