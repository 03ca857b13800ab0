import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import { createTestSchema } from '@todo-auth/testkit'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'

export const trustedOrigin = 'http://localhost:8080'

export function randomSecret() {
  return randomBytes(32).toString('base64url')
}

/** Log lines of an in-process app, kept for assertions. */
export function captureLogs() {
  const lines: string[] = []
  return { lines, stream: { write: (line: string) => void lines.push(line) } }
}

/**
 * An in-process identity app on its own PostgreSQL schema, closed and dropped
 * in teardown. `env` overrides the test defaults.
 */
export async function buildTestApp(t: Test, env: Record<string, string> = {}) {
  const schema = await createTestSchema('t_identity')
  t.teardown(() => schema.drop())
  const config = loadConfig({ BETTER_AUTH_SECRET: randomSecret(), DATABASE_URL: schema.url, LOG_LEVEL: 'silent', ...env })
  const logs = captureLogs()
  const app = await buildApp(config, { logStream: logs.stream })
  t.teardown(() => app.close())
  return { app, config, schema, logs }
}

/** `name=value` of the BetterAuth session cookie in a response's Set-Cookie headers. */
export function sessionCookie(setCookie: string | string[] | undefined): string {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []
  const found = all.find((c) => c.startsWith('better-auth.session_token='))
  if (!found) throw new Error(`no session cookie in ${JSON.stringify(all)}`)
  return found.split(';')[0]!
}
