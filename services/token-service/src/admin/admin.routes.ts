import type { FastifyInstance } from 'fastify'
import Type from 'typebox'
import { setAuditReason } from './audit.ts'
import type { Metrics } from './metrics.ts'
import { NextKeyTooYoungError, UnknownKeyError } from '../keys/key.errors.ts'
import type { KeyLifecycle } from '../keys/key-manager.ts'
import type { KeyMeta } from '../keys/key.store.ts'

const KeyListing = Type.Object(
  {
    kid: Type.String(),
    alg: Type.String(),
    state: Type.Union([Type.Literal('next'), Type.Literal('current'), Type.Literal('retired'), Type.Literal('revoked')]),
    created_at: Type.String(),
    activated_at: Type.Union([Type.String(), Type.Null()]),
    retired_at: Type.Union([Type.String(), Type.Null()]),
    expires_at: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
)

const RotateResponse = Type.Object({ current: Type.String(), next: Type.String(), retired: Type.String() }, { additionalProperties: false })

const RevokeResponse = Type.Object(
  {
    kid: Type.String(),
    state: Type.Literal('revoked'),
    previous_state: Type.Union([Type.String(), Type.Null()]),
    current: Type.Union([Type.String(), Type.Null()]),
    next: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
)

const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() })

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString())

/**
 * SPEC §9 key routes and /metrics (admin listener only; authentication, rate
 * limit and audit come from registerAdminListener).
 */
export async function adminRoutes(app: FastifyInstance, opts: { keys: KeyLifecycle; metrics: Metrics }): Promise<void> {
  const { keys, metrics } = opts
  const retiredLifetimeMs = keys.timings.retiredLifetimeMs

  /** expires_at: when the key leaves the JWKS (retired: once every token it signed has expired; revoked: at revocation). */
  const listing = (key: KeyMeta) => ({
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    created_at: iso(key.createdAt)!,
    activated_at: iso(key.activatedAt),
    retired_at: iso(key.retiredAt),
    expires_at: key.state === 'retired' ? iso((key.retiredAt ?? 0) + retiredLifetimeMs) : key.state === 'revoked' ? iso(key.revokedAt) : null,
  })
  const order = { current: 0, next: 1, retired: 2, revoked: 3 } as const

  app.get('/admin/keys', { schema: { response: { 200: Type.Array(KeyListing) } } }, async () => {
    const all = await keys.list()
    return all.sort((a, b) => order[a.state] - order[b.state] || b.createdAt - a.createdAt).map(listing)
  })

  app.post(
    '/admin/keys/rotate',
    {
      schema: {
        querystring: Type.Object({ force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, { additionalProperties: false }),
        response: { 200: RotateResponse, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const force = (request.query as { force?: string }).force === 'true'
      try {
        return await keys.rotate({ force })
      } catch (error) {
        if (error instanceof NextKeyTooYoungError) {
          setAuditReason(request, 'next_key_too_young')
          reply.header('retry-after', String(error.retryAfterSeconds))
        }
        throw error
      }
    },
  )

  app.post(
    '/admin/keys/:kid/revoke',
    {
      schema: {
        params: Type.Object({ kid: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: RevokeResponse, 404: ErrorBody },
      },
    },
    async (request) => {
      const { kid } = request.params as { kid: string }
      try {
        const outcome = await keys.revoke(kid)
        if (outcome.status === 'already_revoked') return { kid, state: 'revoked' as const, previous_state: 'revoked', current: null, next: null }
        return { kid, state: 'revoked' as const, previous_state: outcome.previousState, current: outcome.current, next: outcome.next }
      } catch (error) {
        if (error instanceof UnknownKeyError) setAuditReason(request, 'unknown_kid')
        throw error
      }
    },
  )

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.contentType)
    return metrics.render()
  })
}
