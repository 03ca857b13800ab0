import { readFileSync } from 'node:fs'

/** The services the gateway forwards to; `web` is the static demo page. */
export const upstreamNames = ['identity', 'token-service', 'todo-api'] as const
export type UpstreamName = (typeof upstreamNames)[number]
export type Target = UpstreamName | 'web'

export interface Route {
  readonly path: string
  readonly upstream: UpstreamName
}

export interface RouteTable {
  readonly bodyLimitBytes: number
  readonly routes: readonly Route[]
}

/** infra/gateway/routes.json, checked: every upstream known, every path absolute. */
export function loadRouteTable(file = new URL('./routes.json', import.meta.url)): RouteTable {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { bodyLimitBytes?: unknown; routes?: unknown }
  if (!Number.isInteger(raw.bodyLimitBytes) || (raw.bodyLimitBytes as number) <= 0) throw new Error('routes.json: bodyLimitBytes must be a positive integer')
  if (!Array.isArray(raw.routes) || raw.routes.length === 0) throw new Error('routes.json: routes must be a non-empty array')
  const routes = raw.routes.map((entry: { path?: unknown; upstream?: unknown }, i: number): Route => {
    if (typeof entry.path !== 'string' || !entry.path.startsWith('/') || entry.path === '/') throw new Error(`routes.json: route #${i} needs a path below /`)
    if (!upstreamNames.includes(entry.upstream as UpstreamName)) throw new Error(`routes.json: route #${i} upstream must be one of ${upstreamNames.join(', ')}`)
    return Object.freeze({ path: entry.path, upstream: entry.upstream as UpstreamName })
  })
  return Object.freeze({ bodyLimitBytes: raw.bodyLimitBytes as number, routes: Object.freeze(routes) })
}

/**
 * Where a request path goes. A route path ending in '/' matches every path that
 * starts with it; one without matches itself and what lies below it, so
 * '/todos' takes '/todos' and '/todos/1' but not '/todosx' (segment boundary).
 */
export function matchRoute(table: RouteTable, pathname: string): Target {
  for (const route of table.routes) {
    if (route.path.endsWith('/') ? pathname.startsWith(route.path) : pathname === route.path || pathname.startsWith(`${route.path}/`)) {
      return route.upstream
    }
  }
  return 'web'
}
