/** The role names we accept from BetterAuth (its admin plugin uses plain words like `user`, `admin`). */
const roleName = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
const maxRoles = 16

export const defaultRoles: readonly string[] = Object.freeze(['user'])

/**
 * The explicit mapping from BetterAuth's `role` claim to our `roles` claim
 * (checklist R26: nothing upstream is copied without a mapping). BetterAuth
 * stores one string, comma-separated when a user has several roles.
 * Absent, null or empty → `["user"]`. Anything that is not such a string
 * returns undefined: the caller refuses the subject token rather than guess.
 */
export function mapRoles(role: unknown): string[] | undefined {
  if (role === undefined || role === null) return [...defaultRoles]
  if (typeof role !== 'string') return undefined
  const roles: string[] = []
  for (const part of role.split(',')) {
    const name = part.trim()
    if (name === '') continue
    if (!roleName.test(name)) return undefined
    if (!roles.includes(name)) roles.push(name)
  }
  if (roles.length > maxRoles) return undefined
  return roles.length > 0 ? roles : [...defaultRoles]
}
