// The Dockerfiles' own commands, replayed in a clean clone of HEAD (no Docker
// engine here): the filtered production install must succeed from the lockfile,
// the runtime tree must hold only what the service needs, and the image's CMD,
// run from its WORKDIR, must start the service. The gateway image's files must
// render into a config nginx accepts and serves.
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { renderMainConf, renderTemplate } from '../infra/gateway/nginx.ts'
import { serviceNodeFlags, type ProductionService } from '../scripts/production-flags.ts'
import { replayDockerfile, type ReplayedStage } from './helpers/dockerfile.ts'
import { environmentOf, loadCompose, parseEnvFile, composeEnvExamplePath } from './helpers/compose.ts'
import { freePort, nginxBinary, repoRoot } from './helpers/gateways.ts'

// Three installs and builds per service image: 2 min alone, over 5 min (the suite's per-file timeout)
// beside two other test files on CI's 2 cores. This file gets 10.
t.setTimeout(600_000)

const workspace = mkdtempSync(join(tmpdir(), 'dockerfile-replay-'))
t.teardown(() => rmSync(workspace, { recursive: true, force: true }))
const context = join(workspace, 'context')
execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repoRoot}`, context])

// What a RUN sees besides the stage's ARG/ENV: a shell's PATH and HOME (npm's cache, pnpm's store),
// nothing of this test's npm/pnpm environment. The workspace's node_modules/.bin is left out of PATH:
// the machine's own npx then runs pnpm (under Node 24, npx here waits ~70 s on the network). A RUN
// starting with `node ` (the dist/ build) gets this test's Node 24, as the base image would.
const machinePath = (process.env.PATH ?? '/usr/bin:/bin')
  .split(':')
  .filter((dir) => !dir.includes('node_modules'))
  .join(':')
const runEnv: Record<string, string> = { PATH: machinePath, HOME: process.env.HOME ?? '/root', CI: 'true' }

/** Runs the image's CMD from its WORKDIR, with this test's Node 24 standing in for the base image's `node`. */
async function runCmd(stage: ReplayedStage, env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const [program, ...args] = stage.cmd!
  if (program !== 'node') throw new Error(`CMD runs ${program}, expected node`)
  const child = spawn(process.execPath, args, { cwd: join(stage.rootfs, stage.workdir), env: { PATH: runEnv.PATH, ...stage.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l))
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`no listening line:\n${lines.slice(-20).join('\n')}`))
    }, 60_000)
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      try {
        const entry = JSON.parse(line) as { event?: string; listener?: string; url?: string }
        if (entry.event === 'listening' && entry.listener === 'public' && entry.url) {
          clearTimeout(timer)
          done(entry.url)
        }
      } catch {}
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`exited ${code}:\n${lines.slice(-20).join('\n')}`))
    })
  })
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      }),
  }
}

const serviceEnv: Record<string, Record<string, string>> = {
  identity: { HOST: '127.0.0.1', PORT: '0', BETTER_AUTH_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'info' },
  'token-service': { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
  'todo-api': { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
}

for (const service of Object.keys(serviceEnv)) {
  t.test(`infra/node-service.Dockerfile builds and starts ${service}`, async (t) => {
    const started = Date.now()
    const stages = replayDockerfile({
      dockerfile: join(context, 'infra/node-service.Dockerfile'),
      context,
      buildArgs: { SERVICE: service },
      workspace: join(workspace, service),
      runEnv,
      node: process.execPath,
    })
    t.equal(stages[0]!.name, 'build', 'a build stage, then the runtime stage of this service')
    const runtime = stages.at(-1)!
    t.equal(runtime.user, 'node', 'runs as the unprivileged node user')
    t.equal(runtime.workdir, `/app/services/${service}`)
    const app = join(runtime.rootfs, 'app')
    t.same(readdirSync(join(app, 'services')), [service], 'only this service is shipped')
    t.notOk(existsSync(join(app, 'packages/testkit')), 'test helpers are not shipped')
    t.notOk(existsSync(join(app, `services/${service}/test`)), 'tests are not shipped')
    t.same(runtime.cmd, ['node', ...serviceNodeFlags[service as ProductionService], 'dist/server.js'], "CMD runs dist/ with the service's production Node flags")
    // The service and every workspace package it runs: their dist/ is what the CMD loads.
    const manifest = JSON.parse(readFileSync(join(app, `services/${service}/package.json`), 'utf8')) as { dependencies?: Record<string, string> }
    const workspaceDeps = Object.keys(manifest.dependencies ?? {})
      .filter((name) => name.startsWith('@todo-auth/'))
      .map((name) => `packages/${name.slice('@todo-auth/'.length)}`)
    for (const dir of [...workspaceDeps, `services/${service}`]) {
      t.ok(existsSync(join(app, dir, 'dist/index.js')) || existsSync(join(app, dir, 'dist/server.js')), `${dir}/dist is built`)
    }
    const built = [...workspaceDeps, `services/${service}`].flatMap((dir) =>
      readdirSync(join(app, dir, 'dist'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.js'))
        .map((f) => join(app, dir, 'dist', f)),
    )
    const tsImports = built.filter((file) => /\b(?:from|import)\s*\(?\s*['"]\.\.?\/[^'"\n]*\.ts['"]/.test(readFileSync(file, 'utf8')))
    t.same(tsImports, [], 'no relative .ts import is left in dist/')
    t.notOk(existsSync(join(app, 'scripts')), 'no build script is shipped')
    const store = readdirSync(join(app, 'node_modules/.pnpm'))
    for (const devOnly of ['tap@', 'typescript@', 'playwright-core@', 'node@24'])
      t.notOk(
        store.some((p) => p.startsWith(devOnly)),
        `no ${devOnly} (a dev dependency)`,
      )
    t.comment(`replayed in ${((Date.now() - started) / 1000).toFixed(1)} s`)

    const running = await runCmd(runtime, serviceEnv[service]!)
    t.teardown(running.stop)
    const health = await fetch(`${running.url}/healthz`)
    t.equal(health.status, 200, `${service} answers /healthz from the image's tree`)
  })
}

t.test('infra/gateway/Dockerfile ships a template that renders into a config nginx accepts and serves', { skip: nginxBinary() ? false : 'nginx is not installed here (apt-get install nginx; CI installs it in .ci/run)' }, async (t) => {
  const stages = replayDockerfile({ dockerfile: join(context, 'infra/gateway/Dockerfile'), context, buildArgs: {}, workspace: join(workspace, 'gateway'), runEnv })
  const rootfs = stages.at(-1)!.rootfs
  const template = join(rootfs, 'etc/nginx/templates/default.conf.template')
  t.ok(existsSync(template), 'the template is where the image renders templates from')
  t.ok(existsSync(join(rootfs, 'usr/share/nginx/html/index.html')), 'the demo page is in the web root')
  t.same(readdirSync(join(rootfs, 'usr/share/nginx/html')).sort(), readdirSync(resolve(context, 'web')).sort(), 'exactly web/')

  // The image's entrypoint: envsubst with the variables compose sets (upstreams moved to loopback: no compose DNS here).
  const example = parseEnvFile(readFileSync(composeEnvExamplePath, 'utf8'))
  const composeEnv = environmentOf(loadCompose(new Map([...example].map(([k, v]) => [k, v.startsWith('replace-with-') ? 'x'.repeat(64) : v]))).services.gateway!)
  const port = await freePort()
  const vars = {
    ...composeEnv,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    IDENTITY_UPSTREAM: '127.0.0.1:9',
    TOKEN_SERVICE_UPSTREAM: '127.0.0.1:9',
    TODO_API_UPSTREAM: '127.0.0.1:9',
    WEB_ROOT: join(rootfs, 'usr/share/nginx/html'),
  }
  const dir = join(workspace, 'gateway-run')
  execFileSync('mkdir', ['-p', dir])
  execFileSync('chmod', ['755', workspace, dir])
  writeFileSync(join(dir, 'gateway.conf'), renderTemplate(readFileSync(template, 'utf8'), vars))
  writeFileSync(join(dir, 'nginx.conf'), renderMainConf(dir, join(dir, 'gateway.conf'), 'warn'))
  const args = ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')]
  t.doesNotThrow(() => execFileSync(nginxBinary()!, ['-t', '-q', ...args], { stdio: 'pipe' }), 'nginx -t accepts it')
  const nginx = spawn(nginxBinary()!, args, { stdio: 'ignore' })
  t.teardown(
    () =>
      new Promise<void>((done) => {
        if (nginx.exitCode !== null) return done()
        nginx.once('exit', () => done())
        nginx.kill('SIGQUIT')
      }),
  )
  let page: Response | undefined
  for (let i = 0; i < 100 && !page; i++) {
    page = await fetch(`http://127.0.0.1:${port}/`).catch(async () => {
      await new Promise((r) => setTimeout(r, 50))
      return undefined
    })
  }
  t.equal(page?.status, 200)
  t.equal(await page?.text(), readFileSync(join(context, 'web/index.html'), 'utf8'))
})
