import { createAuthMiddleware, isAPIError } from 'better-auth/api'
import type { BetterAuthPlugin } from 'better-auth'
import type { SessionEventReason } from './session-event.repository.ts'

/** Records one "end every token-service session of this user" event (durably) and returns once it is stored. */
export type RecordSessionEvent = (userId: string, reason: SessionEventReason) => Promise<void>

type Body = { userId?: unknown; data?: { banned?: unknown } } | undefined

/**
 * The BetterAuth endpoints after which every token-service session of a user
 * must end, and how each names the user. A user's deletion is caught by a
 * database hook instead (authOptions), which sees every way a user row goes.
 */
const endpoints: Record<string, { reason: SessionEventReason; userId(ctx: { body?: unknown; returned?: unknown; session?: { user: { id: string } } | null }): unknown }> = {
  '/admin/ban-user': { reason: 'banned', userId: ({ body }) => (body as Body)?.userId },
  '/admin/update-user': { reason: 'banned', userId: ({ body }) => ((body as Body)?.data?.banned === true ? (body as Body)?.userId : undefined) },
  '/admin/revoke-user-sessions': { reason: 'sessions_revoked', userId: ({ body }) => (body as Body)?.userId },
  '/admin/set-user-password': { reason: 'password_changed', userId: ({ body }) => (body as Body)?.userId },
  '/change-password': { reason: 'password_changed', userId: ({ returned }) => (returned as { user?: { id?: unknown } } | undefined)?.user?.id },
  '/revoke-sessions': { reason: 'sessions_revoked', userId: ({ session }) => session?.user.id },
}

/**
 * A BetterAuth plugin: after each endpoint above succeeded, records the
 * event before the response goes out (a failure to record fails the request,
 * so the caller knows to retry). The password reset is recorded through
 * emailAndPassword.onPasswordReset, the deletion through databaseHooks.
 */
export function sessionEventsPlugin(record: RecordSessionEvent) {
  return {
    id: 'todo-auth-session-events',
    hooks: {
      after: [
        {
          matcher: (ctx) => ctx.path !== undefined && Object.hasOwn(endpoints, ctx.path),
          handler: createAuthMiddleware(async (ctx) => {
            const returned = ctx.context.returned
            if (returned === undefined || isAPIError(returned) || (returned instanceof Response && !returned.ok)) return
            const endpoint = endpoints[ctx.path]!
            const userId = endpoint.userId({ body: ctx.body, returned, session: ctx.context.session })
            if (typeof userId === 'string' && userId !== '') await record(userId, endpoint.reason)
            else ctx.context.logger.error(`session event of ${ctx.path} names no user; token-service sessions were not ended`)
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin
}
