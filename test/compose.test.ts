// docker-compose.yml checked without a Docker engine: its structure against the
// compose spec's essentials, its variables against infra/compose.env.example,
// and each service's environment against that service's own config loader.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { loadConfig as loadIdentityConfig, EnvSchema as identityEnv } from '../services/identity/src/config.ts'
import { loadConfig as loadTodoApiConfig, EnvSchema as todoApiEnv } from '../services/todo-api/src/config.ts'
import { EnvSchema as tokenServiceEnv, loadConfig as loadTokenServiceConfig } from '../services/token-service/src/config.ts'
import { loadGatewayConfig, upstreamVariables } from '../infra/gateway/gateway-config.ts'
import { templateFile } from '../infra/gateway/nginx.ts'
import { composeEnvExamplePath, defaultServices, environmentOf, environmentWithSecrets, interpolate, loadCompose, makeSecrets, parseEnvFile, readComposeText, referencedVariables, type ComposeFile } from './helpers/compose.ts'
import { repoRoot } from './helpers/gateways.ts'

const example = parseEnvFile(readFileSync(composeEnvExamplePath, 'utf8'))
/** The example with every placeholder secret replaced as its comment says (openssl rand -hex 32). */
const filled = new Map([...example].map(([k, v]) => [k, v.startsWith('replace-with-') ? randomBytes(32).toString('hex') : v]))
const compose: ComposeFile = loadCompose(filled)
/** The secret files as infra/make-secrets.sh writes them (what compose mounts at /run/secrets/). */
const secretDir = mkdtempSync(join(tmpdir(), 'compose-secrets-'))
t.teardown(() => rmSync(secretDir, { recursive: true, force: true }))
makeSecrets(secretDir)
const secretValue = (name: string) => readFileSync(join(secretDir, `${name}.txt`), 'utf8').trimEnd()
const services = compose.services
/** The `cluster` profile's services are checked by test/compose-cluster.test.ts. */
const oneNode = defaultServices(compose)

const expectedServices = ['postgres', 'redis', 'identity', 'token-service', 'todo-api', 'gateway']
const conditions = ['service_started', 'service_healthy', 'service_completed_successfully']

t.test('without a profile the file has exactly the six services, each with an image or a build whose Dockerfile exists', async (t) => {
  t.same(Object.keys(oneNode).sort(), [...expectedServices].sort())
  for (const [name, service] of Object.entries(services)) {
    t.ok(service.image || service.build, `${name} has an image or a build`)
    if (service.build) {
      t.equal(service.build.context, '.', `${name} builds from the repository root`)
      const dockerfile = resolve(repoRoot, service.build.dockerfile ?? 'Dockerfile')
      t.ok(existsSync(dockerfile), `${name}: ${service.build.dockerfile} exists`)
      const text = readFileSync(dockerfile, 'utf8')
      for (const arg of Object.keys(service.build.args ?? {})) t.match(text, new RegExp(`^ARG ${arg}\\b`, 'm'), `${name}: the Dockerfile declares ARG ${arg}`)
    } else {
      t.match(service.image, /^[a-z0-9./-]+:[0-9][\w.-]*$/, `${name}: a pinned image tag (${service.image})`)
    }
  }
})

t.test('every service has a healthcheck and every depends_on waits on a valid condition of a known service', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    const test = service.healthcheck?.test
    // A one-shot job (restart "no") is waited for with service_completed_successfully, not a healthcheck.
    if (service.restart === 'no') t.equal(service.healthcheck, undefined, `${name} is a one-shot job`)
    else t.ok(Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(test[0]!) && test.length > 1, `${name} has a healthcheck command`)
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      t.ok(services[dependency], `${name} depends on the existing ${dependency}`)
      t.ok(conditions.includes(condition), `${name} → ${dependency}: ${condition}`)
      if (condition === 'service_healthy') t.ok(services[dependency]?.healthcheck, `${dependency} has the healthcheck ${name} waits for`)
    }
  }
  // Start order: no cycle in depends_on.
  const visiting = new Set<string>()
  const done = new Set<string>()
  const visit = (name: string): boolean => {
    if (done.has(name)) return true
    if (visiting.has(name)) return false
    visiting.add(name)
    const ok = Object.keys(services[name]?.depends_on ?? {}).every(visit)
    done.add(name)
    return ok
  }
  t.ok(Object.keys(services).every(visit), 'depends_on has no cycle')
  t.same(Object.keys(services.gateway!.depends_on ?? {}).sort(), ['identity', 'todo-api', 'token-service'], 'the gateway starts after the three services are healthy')
  for (const dependency of ['identity', 'todo-api', 'token-service']) t.equal(services.gateway!.depends_on![dependency]!.condition, 'service_healthy')
})

t.test('redis persists with the append-only file and token-service runs two replicas', async (t) => {
  const command = services.redis!.command
  const args = Array.isArray(command) ? command : String(command).split(/\s+/)
  t.equal(args[args.indexOf('--appendonly') + 1], 'yes')
  t.ok(
    services.redis!.volumes?.some((v) => v.endsWith(':/data')),
    'the AOF lives on a volume',
  )
  t.ok(
    services.postgres!.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data')),
    'postgres data lives on a volume',
  )
  t.equal(services['token-service']!.deploy?.replicas, 2)
})

t.test('only the gateways publish a port (the same one: one or the other runs), and never the admin listener', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    if (name === 'gateway' || name === 'gateway-cluster') t.same(service.ports, [`${filled.get('GATEWAY_PUBLISH')}:8080`])
    else t.equal(service.ports, undefined, `${name} publishes nothing`)
  }
  const ts = environmentOf(services['token-service']!)
  // 0.0.0.0 inside the container: identity reaches the admin API over the backend network to end
  // a banned or deleted user's sessions (docs/sessions.md); it is still published nowhere (above)
  // and never routed by the gateway (below).
  t.equal(ts.ADMIN_HOST, '0.0.0.0', "token-service's admin listener is on the backend network, for identity")
  const identity = environmentOf(services.identity!)
  t.equal(identity.TOKEN_SERVICE_ADMIN_URL, `http://token-service:${ts.ADMIN_PORT}`, "identity sends session events to token-service's admin listener")
  t.equal(identity.TOKEN_SERVICE_ADMIN_TOKEN, ts.ADMIN_TOKEN, 'with the admin token')
  const gatewayEnv = environmentOf(services.gateway!)
  const adminPort = ts.ADMIN_PORT
  t.notOk(
    Object.values(gatewayEnv).some((v) => v.includes(`:${adminPort}`)),
    'no gateway upstream points at the admin port',
  )
  t.notMatch(readFileSync(templateFile, 'utf8'), new RegExp(`${adminPort}|ADMIN`), 'the nginx template never names the admin listener')
})

t.test('every variable the file uses is in infra/compose.env.example, and every example variable is used', async (t) => {
  const used = referencedVariables(readComposeText())
  for (const name of used) t.ok(example.has(name), `${name} is in the example`)
  for (const name of example.keys()) t.ok(used.has(name), `${name} (example) is used by docker-compose.yml`)
  t.throws(() => interpolate('${PUBLIC_ORIGIN:?set it}', new Map()), /PUBLIC_ORIGIN: set it/, 'a missing required setting stops compose')
})

const secretVariables = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'BETTER_AUTH_SECRET', 'KEY_ENCRYPTION_KEY', 'ADMIN_TOKEN', 'DATABASE_URL', 'REDISCLI_AUTH', 'INTROSPECTION_CLIENTS']

t.test('every secret is a file secret (made by infra/make-secrets.sh), mounted only where it is read, and never a value', async (t) => {
  const declared = Object.keys(compose.secrets ?? {}).sort()
  t.same(
    readdirSync(secretDir)
      .map((f) => f.replace(/\.txt$/, ''))
      .sort(),
    declared,
    'make-secrets.sh writes exactly the declared secrets',
  )
  for (const [name, { file }] of Object.entries(compose.secrets ?? {})) t.equal(file, `./secrets/${name}.txt`, `${name} comes from ./secrets/${name}.txt`)
  t.match(readFileSync(resolve(repoRoot, '.gitignore'), 'utf8'), /^secrets\/$/m, 'secrets/ is git-ignored')
  const mounted = new Set<string>()
  for (const [name, service] of Object.entries(services)) {
    const env = environmentOf(service)
    for (const variable of secretVariables) t.notOk(variable in env, `${name} gets no ${variable} value (only ${variable}_FILE)`)
    t.notMatch(env.REDIS_URL ?? '', /@/, `${name}: no credentials in REDIS_URL`)
    const read = Object.values(env).flatMap((v) => /^\/run\/secrets\/(\w+)$/.exec(v)?.[1] ?? [])
    const scripts = JSON.stringify([service.healthcheck, service.entrypoint])
    for (const secret of service.secrets ?? []) {
      mounted.add(secret)
      t.ok(read.includes(secret) || scripts.includes('redis-entrypoint.sh') || name === 'postgres', `${name} reads the ${secret} it mounts`)
    }
    t.doesNotThrow(() => environmentWithSecrets(service, secretDir), `${name} mounts every secret its environment names`)
  }
  t.same([...mounted].sort(), declared, 'every declared secret is used')
  for (const name of example.keys())
    t.notOk(
      secretVariables.some((v) => name.includes(v)),
      `${name} in the example is no secret`,
    )
})

const serviceConfigs = {
  identity: { known: Object.keys(identityEnv.properties), load: loadIdentityConfig },
  'token-service': { known: Object.keys(tokenServiceEnv.properties), load: loadTokenServiceConfig },
  'todo-api': { known: Object.keys(todoApiEnv.properties), load: loadTodoApiConfig },
} as const

t.test("each service's environment is accepted by that service's own config loader", async (t) => {
  const instances = { ...serviceConfigs, 'token-service-cluster': serviceConfigs['token-service'], 'todo-api-cluster': serviceConfigs['todo-api'] }
  for (const [name, { known, load }] of Object.entries(instances)) {
    const env = environmentWithSecrets(services[name]!, secretDir)
    for (const variable of Object.keys(env)) t.ok(known.includes(variable) || known.includes(variable.replace(/_FILE$/, '')), `${name} reads ${variable}`)
    t.doesNotThrow(() => load(env), `${name}'s loadConfig accepts the compose environment and its secret files`)
  }
  const tokenService = loadTokenServiceConfig(environmentWithSecrets(services['token-service']!, secretDir))
  t.equal(tokenService.DEPLOYMENT_MODE, 'production')
  t.equal(tokenService.COOKIE_SECURE, true)
  t.ok(tokenService.REDIS_URL, 'token-service uses Redis (rotation state shared by both replicas)')
  t.equal(tokenService.redis?.password, secretValue('redis_password'), 'with the password of the Redis secret')
  t.equal(tokenService.ADMIN_TOKEN, secretValue('admin_token'))
  t.equal(tokenService.KEY_ENCRYPTION_KEY?.toString('hex'), secretValue('key_encryption_key'))
})

t.test('issuers, audiences, JWKS URLs and origins agree across services', async (t) => {
  const origin = filled.get('PUBLIC_ORIGIN')!
  const identity = environmentOf(services.identity!)
  const ts = environmentOf(services['token-service']!)
  const todo = environmentOf(services['todo-api']!)
  t.equal(identity.JWT_ISSUER, ts.BETTER_AUTH_ISSUER)
  t.equal(identity.JWT_AUDIENCE, ts.BETTER_AUTH_AUDIENCE)
  t.equal(identity.JWT_ALG, ts.BETTER_AUTH_ALGORITHMS)
  t.equal(ts.BETTER_AUTH_JWKS_URL, `http://identity:${identity.PORT}/api/auth/jwks`)
  t.equal(ts.ISSUER, origin)
  t.equal(todo.TOKEN_ISSUER, origin)
  t.equal(todo.TOKEN_SERVICE_JWKS_URL, `http://token-service:${ts.PORT}/.well-known/jwks.json`)
  t.equal(ts.WEB_ALLOWED_ORIGINS, origin)
  t.equal(identity.TRUSTED_ORIGINS, origin)
  t.equal(identity.BETTER_AUTH_URL, origin)
})

t.test('the gateway routes to the compose service names and the services trust only its address', async (t) => {
  const gatewayEnv = environmentOf(services.gateway!)
  const config = loadGatewayConfig(gatewayEnv)
  t.equal(config.upstreams.identity, `identity:${environmentOf(services.identity!).PORT}`)
  t.equal(config.upstreams['token-service'], `token-service:${environmentOf(services['token-service']!).PORT}`)
  t.equal(config.upstreams['todo-api'], `todo-api:${environmentOf(services['todo-api']!).PORT}`)
  const placeholders = new Set([...readFileSync(templateFile, 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]!))
  for (const name of placeholders) t.ok(gatewayEnv[name], `the gateway sets ${name} for the template`)
  for (const name of Object.values(upstreamVariables)) t.ok(placeholders.has(name), `the template uses ${name}`)

  const networks = services.gateway!.networks as Record<string, { ipv4_address?: string }>
  const [networkName, attachment] = Object.entries(networks)[0]!
  const gatewayIp = attachment.ipv4_address!
  const subnet = compose.networks?.[networkName]?.ipam?.config?.[0]?.subnet ?? ''
  t.ok(gatewayIp.startsWith(subnet.replace(/\.0\/24$/, '.')), `the gateway's address ${gatewayIp} is in ${subnet}`)
  for (const name of ['identity', 'token-service', 'todo-api']) t.equal(environmentOf(services[name]!).TRUST_PROXY, gatewayIp, `${name} trusts the gateway's X-Forwarded-* only`)
})

t.test('the Dockerfiles run as non-root on Node 24 and nginx-unprivileged, multi-stage for Node', async (t) => {
  const node = readFileSync(resolve(repoRoot, 'infra/node-service.Dockerfile'), 'utf8')
  t.match(node, /^ARG NODE_IMAGE=node:24[-.\w]*$/m)
  const stages = [...node.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ from: m[1], name: m[2] }))
  t.equal(stages[0]?.name, 'build', 'a build stage first')
  t.equal(stages.filter((s) => s.from === '${NODE_IMAGE}').length, 2, 'the build and runtime stages start from the Node image; the rest from those')
  for (const name of ['identity', 'token-service', 'todo-api'])
    t.ok(
      stages.some((s) => s.name === `runtime-${name}` && s.from === 'runtime'),
      `a runtime-${name} stage on the runtime stage`,
    )
  t.same(stages.at(-1), { from: 'runtime-${SERVICE}', name: undefined }, 'the image is the runtime stage of the SERVICE build arg')
  t.match(node, /^COPY --from=build /m)
  const lastUser = [...node.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1]
  t.equal(lastUser, 'node', 'the runtime stage runs as the node user')
  const gateway = readFileSync(resolve(repoRoot, 'infra/gateway/Dockerfile'), 'utf8')
  t.match(gateway, /^FROM nginxinc\/nginx-unprivileged:\d+\.\d+/m, 'nginx runs as uid 101')
  for (const [name, service] of Object.entries(services)) {
    if (service.build) t.equal(service.read_only, true, `${name} has a read-only root filesystem`)
  }
})

t.test('the postgres init script creates one database and role per service, matching the URLs', async (t) => {
  const script = readFileSync(resolve(repoRoot, 'infra/postgres/create-databases.sh'), 'utf8')
  for (const name of ['identity', 'todo-api']) {
    const secret = `${name.replace('-', '_')}_database_url`
    t.ok(services.postgres!.secrets?.includes(secret), `postgres mounts ${secret} for the init script`)
    t.match(script, `/run/secrets/${secret}`, `the init script takes the ${name} role's password from ${secret}`)
    const url = new URL(secretValue(secret))
    const role = decodeURIComponent(url.username)
    const database = url.pathname.slice(1)
    t.match(script, new RegExp(`CREATE ROLE ${role} LOGIN`), `${name}: role ${role}`)
    t.match(script, new RegExp(`CREATE DATABASE ${database} OWNER ${role}`), `${name}: database ${database}`)
    const passwordOf = script.split('\n').find((line) => line.startsWith('password_of()'))!
    const extracted = execFileSync('sh', ['-c', `${passwordOf}\npassword_of "$1"`, 'sh', join(secretDir, `${secret}.txt`)], { encoding: 'utf8' }).trim()
    t.equal(extracted, decodeURIComponent(url.password), `${name}: the script's password_of gives the URL's password`)
    t.equal(url.hostname, 'postgres')
  }
  t.ok(
    services.postgres!.volumes?.some((v) => v.startsWith('./infra/postgres/create-databases.sh:/docker-entrypoint-initdb.d/')),
    'the script is mounted for initdb',
  )
})
