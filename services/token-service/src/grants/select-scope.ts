import { InvalidScope } from '../errors.ts'

/**
 * The scope to grant: every requested scope-token must be in `allowed`
 * (the client's scopes at exchange, the session's at refresh: narrowing
 * only, RFC 6749 §6). No `scope` → all of `allowed`. The result keeps the
 * order of `allowed`, without duplicates.
 */
export function selectScope(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed]
  const tokens = requested.split(' ')
  for (const token of tokens) {
    if (token === '' || !allowed.includes(token)) throw new InvalidScope('the requested scope is not allowed')
  }
  return allowed.filter((scope) => tokens.includes(scope))
}
