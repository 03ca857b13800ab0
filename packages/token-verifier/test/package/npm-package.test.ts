// The package as a user gets it: packed by pnpm (publishConfig swaps the exports to dist/ and
// workspace:* for real versions), installed with npm from the tarballs into an empty project,
// and imported by plain Node (no TypeScript, no workspace, no custom condition) to verify a
// real token of a running token-service.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { exchange, spawnTokenService, startIdentity } from '@todo-auth/testkit'

const run = promisify(execFile)
const root = join(import.meta.dirname, '../../../..')
const work = mkdtempSync(join(tmpdir(), 'token-verifier-pack-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

async function pack(dir: string): Promise<string> {
  // prepack builds dist/ (tsc -b, contracts first through the project reference).
  await run('npx', ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', work], { cwd: join(root, dir), timeout: 120_000 })
  const name = readdirSync(work).find((file) => file.startsWith(`todo-auth-${dir.split('/')[1]}-`) && file.endsWith('.tgz'))
  if (!name) throw new Error(`no tarball for ${dir}`)
  return join(work, name)
}

const contracts = await pack('packages/contracts')
const verifierTarball = await pack('packages/token-verifier')
const project = join(work, 'project')
mkdirSync(project)
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', contracts, verifierTarball], { cwd: project, timeout: 180_000 })
const installed = join(project, 'node_modules/@todo-auth/token-verifier')

t.test('the installed package ships built JS and declarations, with dist exports and no workspace: ranges', async (t) => {
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>
  t.same(manifest.exports, { '.': { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' } })
  t.notOk('private' in manifest, 'publishable')
  t.same(manifest.peerDependencies, { fastify: '^5.0.0' })
  t.same(manifest.peerDependenciesMeta, { fastify: { optional: true } })
  t.notMatch(JSON.stringify(manifest.dependencies), 'workspace:', 'workspace ranges were replaced by versions')
  const files = readdirSync(join(installed, 'dist'), { recursive: true }).map(String)
  t.ok(files.includes('index.js') && files.includes('index.d.ts'), 'dist/index.js and dist/index.d.ts')
  t.notOk(files.includes('.tsbuildinfo'), 'no build state')
  t.notMatch(readFileSync(join(installed, 'dist/jwt/verify-access-token.js'), 'utf8'), /from ['"][^'"]+\.ts['"]/, 'no .ts import left in the JS')
  t.ok(readdirSync(installed).includes('README.md'))
  t.notOk(readdirSync(join(project, 'node_modules')).includes('fastify'), 'fastify (an optional peer) is not installed: the plain verifier does not need it')
})

t.test('plain Node imports the installed package and verifies a real token-service token', async (t) => {
  const identity = await startIdentity()
  t.teardown(() => identity.close())
  const tokenService = await spawnTokenService({ identity })
  t.teardown(() => tokenService.stop())
  const { jwt } = await identity.signUp()
  const tokens = await exchange(tokenService.url, jwt)
  t.equal(tokens.status, 200)

  const script = join(project, 'verify.mjs')
  writeFileSync(
    script,
    [
      "import { createAccessTokenVerifier, createRemoteKeySet, bearerAuthPlugin } from '@todo-auth/token-verifier'",
      "const keySet = createRemoteKeySet({ url: process.env.JWKS_URL, algorithms: ['ES256'] })",
      "const verifier = createAccessTokenVerifier({ issuer: 'http://localhost:8080', audience: 'todo-api', algorithms: ['ES256'], keySet })",
      'const auth = await verifier.verify(process.env.ACCESS_TOKEN)',
      "const refused = await verifier.verify(process.env.ACCESS_TOKEN.slice(0, -4) + 'AAAA').then(() => 'accepted', (e) => e.code)",
      'console.log(JSON.stringify({ sub: auth.sub, scope: auth.scope, refused, plugin: typeof bearerAuthPlugin }))',
    ].join('\n'),
  )
  // The token goes to the child through its environment, never through argv or a log.
  const { stdout } = await run(process.execPath, [script], { cwd: project, env: { PATH: process.env.PATH ?? '', JWKS_URL: tokenService.jwksUrl, ACCESS_TOKEN: tokens.body.access_token ?? '' }, timeout: 30_000 })
  const result = JSON.parse(stdout) as { sub: string; scope: string[]; refused: string; plugin: string }
  t.equal(result.sub, JSON.parse(Buffer.from((tokens.body.access_token ?? '').split('.')[1]!, 'base64url').toString()).sub)
  t.same(result.scope, ['todos:read', 'todos:write'])
  t.equal(result.refused, 'ERR_TOKEN_INVALID', 'a forged signature is refused with its code')
  t.equal(result.plugin, 'function', 'the Fastify plugin loads without fastify installed (types only)')
})
