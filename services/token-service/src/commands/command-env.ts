import { Type } from 'typebox'
import { ConfigError, loadEnv, optional, text } from '@todo-auth/service-config'

/** ADMIN_TOKEN is a secret, so ADMIN_TOKEN_FILE works here as in the service (Docker secrets). */
const TokenSchema = Type.Object({ ADMIN_TOKEN: optional(text({ secret: true, description: 'The admin API bearer token.' })) })

/** The operator command's own settings (it is a separate process from the service), validated once. */
export interface CommandEnv {
  readonly url: string
  readonly token: string
}

export function readCommandEnv(env: Record<string, string | undefined>): CommandEnv {
  const problems: string[] = []
  const url = env.ADMIN_URL || 'http://127.0.0.1:3102'
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push('ADMIN_URL: must be an http(s) URL')
  } catch {
    problems.push('ADMIN_URL: must be an absolute URL')
  }
  let token = ''
  try {
    token = loadEnv(TokenSchema, env).ADMIN_TOKEN ?? ''
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    for (const problem of error.errors) problems.push(`${problem.variable}: ${problem.message}`)
  }
  if (token.length === 0 && !problems.some((p) => p.startsWith('ADMIN_TOKEN'))) problems.push('ADMIN_TOKEN: required (the admin API bearer token)')
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`)
  return Object.freeze({ url, token })
}
