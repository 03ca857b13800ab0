import { InvalidTarget } from '../errors.ts'
import type { OAuthParams } from './read-params.ts'

/**
 * The audience of the access token (RFC 8693 `audience`, RFC 8707
 * `resource`): one of the client's audiences, given by either parameter or
 * both when they agree; default the client's first (SPEC §3.1).
 */
export function selectAudience(params: OAuthParams, allowed: readonly string[], fallback: string): string {
  const audience = params.get('audience')
  const resource = params.get('resource')
  if (audience !== undefined && resource !== undefined && audience !== resource) {
    throw new InvalidTarget('audience and resource name different targets')
  }
  const target = audience ?? resource ?? fallback
  if (!allowed.includes(target)) throw new InvalidTarget()
  return target
}
