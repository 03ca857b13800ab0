import type { FastifyInstance } from 'fastify'
import { Jwks } from '@todo-auth/contracts'
import type { KeyManager } from '../keys/key-manager.ts'

/**
 * `GET /.well-known/jwks.json` (SPEC §7, RFC 7517): the next, current and
 * still-valid retired public keys. Cacheable for at most JWKS_MAX_AGE and
 * never past the next planned key change; a strong ETag over the exact body
 * bytes; 304 on a matching If-None-Match.
 */
export async function jwksRoutes(app: FastifyInstance, opts: { keys: KeyManager }): Promise<void> {
  // The ETag covers JSON.stringify(body), so exactly those bytes are sent (not a schema serializer's reordering).
  let last: { body: object; serialized: string } | undefined
  app.get('/.well-known/jwks.json', { schema: { response: { 200: Jwks, 304: { type: 'null' } } } }, async (request, reply) => {
    const { body, etag, maxAgeSeconds } = opts.keys.jwks()
    reply.header('cache-control', `public, max-age=${maxAgeSeconds}`).header('etag', etag)
    if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) {
      return reply.code(304).send()
    }
    if (last?.body !== body) last = { body, serialized: JSON.stringify(body) }
    return reply.type('application/json; charset=utf-8').send(last.serialized)
  })
}

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison (W/ ignored), takes a list, and `*` matches any. */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const wanted = etag.replace(/^W\//, '')
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === wanted)
}
