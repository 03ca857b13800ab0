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
  const token = env.ADMIN_TOKEN ?? ''
  if (token.length === 0) problems.push('ADMIN_TOKEN: required (the admin API bearer token)')
  if (problems.length > 0) throw new Error(`invalid configuration: ${problems.join('; ')}`)
  return Object.freeze({ url, token })
}
