import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { repoRoot } from './gateways.ts'

export interface ComposeService {
  image?: string
  profiles?: string[]
  restart?: string
  entrypoint?: string[] | string
  build?: { context: string; dockerfile?: string; args?: Record<string, string> }
  command?: string[] | string
  environment?: Record<string, string | number | boolean | null>
  env_file?: unknown
  ports?: (string | { published?: string | number; target?: number })[]
  expose?: unknown[]
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] | string; interval?: string; retries?: number }
  deploy?: { replicas?: number }
  networks?: string[] | Record<string, { ipv4_address?: string } | null>
  volumes?: string[]
  user?: string
  read_only?: boolean
  /** Names of top-level secrets mounted at /run/secrets/<name>. */
  secrets?: string[]
}

export interface ComposeFile {
  name?: string
  services: Record<string, ComposeService>
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } } | null>
  volumes?: Record<string, unknown>
  secrets?: Record<string, { file: string }>
}

export const composePath = resolve(repoRoot, 'docker-compose.yml')
export const composeEnvExamplePath = resolve(repoRoot, 'infra/compose.env.example')

export function readComposeText(): string {
  return readFileSync(composePath, 'utf8')
}

/** KEY=value lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) throw new Error(`not KEY=value: ${trimmed}`)
    out.set(trimmed.slice(0, eq), trimmed.slice(eq + 1))
  }
  return out
}

const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g

/** Every variable the compose file interpolates (`${VAR}`, `${VAR:-x}`, `${VAR:?x}`, `$VAR`; `$$` is a literal `$`). */
export function referencedVariables(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(reference)) {
    const name = m[1] ?? m[4]
    if (name) names.add(name)
  }
  return names
}

/** Compose's interpolation (compose-spec "Interpolation") of one string. */
export function interpolate(value: string, env: Map<string, string>): string {
  return value.replace(reference, (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (whole === '$$') return '$'
    const name = (braced ?? bare)!
    const set = env.get(name)
    switch (op) {
      case ':-':
        return set ? set : (arg ?? '')
      case '-':
        return set ?? arg ?? ''
      case ':?':
        if (!set) throw new Error(`${name}: ${arg}`)
        return set
      case '?':
        if (set === undefined) throw new Error(`${name}: ${arg}`)
        return set
      default:
        return set ?? ''
    }
  })
}

/** The compose file as compose would see it with `env`: every string interpolated. */
export function loadCompose(env: Map<string, string>): ComposeFile {
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return interpolate(node, env)
    if (Array.isArray(node)) return node.map(walk)
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]))
    return node
  }
  // merge: true resolves the `<<: *node-service` anchors as compose does; top-level x- keys are extensions.
  const document = parse(readComposeText(), { merge: true }) as Record<string, unknown>
  return walk(Object.fromEntries(Object.entries(document).filter(([k]) => !k.startsWith('x-')))) as ComposeFile
}

/** The services `docker compose up` starts without --profile (no `profiles:` key). */
export function defaultServices(compose: ComposeFile): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(compose.services).filter(([, service]) => !service.profiles))
}

/** A service's environment as strings, as the process would get it. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(service.environment ?? {})) if (v !== null && v !== undefined) out[k] = String(v)
  return out
}

/** Runs infra/make-secrets.sh into `dir`, as an operator would before `docker compose up`. */
export function makeSecrets(dir: string): void {
  execFileSync('sh', [resolve(repoRoot, 'infra/make-secrets.sh'), dir], { stdio: 'pipe' })
}

/**
 * A service's environment with every `/run/secrets/<name>` pointed at `<dir>/<name>.txt` (what
 * compose mounts there); throws for a secret the service does not list under `secrets:`.
 */
export function environmentWithSecrets(service: ComposeService, dir: string): Record<string, string> {
  const env = environmentOf(service)
  for (const [name, value] of Object.entries(env)) {
    const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(value)?.[1]
    if (secret === undefined) continue
    if (!service.secrets?.includes(secret)) throw new Error(`${name} names /run/secrets/${secret}, which the service does not mount`)
    env[name] = join(dir, `${secret}.txt`)
  }
  return env
}
