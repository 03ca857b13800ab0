import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

/**
 * A Dockerfile replayed without a Docker engine: each stage gets a directory
 * standing in for its root filesystem (the base image's own files are not
 * there), COPY copies from the build context (honouring <Dockerfile>.dockerignore)
 * or from an earlier stage, RUN runs the same shell command in the stage's
 * WORKDIR with the stage's ARG/ENV values. RUN commands therefore have to use
 * paths relative to WORKDIR, which the Dockerfiles here do.
 */
export interface Instruction {
  keyword: string
  args: string
}

export interface ReplayedStage {
  name: string
  rootfs: string
  /** WORKDIR as an absolute path inside the image. */
  workdir: string
  user: string | undefined
  cmd: string[] | undefined
  env: Record<string, string>
  /** Each RUN command as executed (after nothing: the shell expands variables, as in Docker). */
  runs: string[]
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  const lines = text.split('\n')
  let current = ''
  for (const line of lines) {
    if (current === '' && /^\s*(#|$)/.test(line)) continue
    if (/\\\s*$/.test(line)) {
      current += line.replace(/\\\s*$/, ' ')
      continue
    }
    current += line
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(current)
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() })
    current = ''
  }
  return out
}

/** Docker's ${VAR} / $VAR substitution in FROM, COPY, WORKDIR, USER, ENV. */
function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_w, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? '')
}

function ignoredBy(patterns: string[]): (path: string) => boolean {
  const rules = patterns.map((raw) => {
    const negate = raw.startsWith('!')
    const body = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '')
    const source = body
      .split('/')
      .map((part) =>
        part === '**'
          ? '.*'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?')
    return { negate, regex: new RegExp(`^${source}$`) }
  })
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))
    let ignored = false
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.negate
    return ignored
  }
}

function copyFiltered(source: string, destination: string, context: string, ignored: (path: string) => boolean): void {
  const rel = relative(context, source)
  const stat = lstatSync(source)
  // A directory excluded as a whole may still hold re-included paths (e.g. `**` then `!web`): look inside.
  if (rel !== '' && ignored(rel) && !stat.isDirectory()) return
  if (stat.isSymbolicLink()) {
    mkdirSync(dirname(destination), { recursive: true })
    symlinkSync(readlinkSync(source), destination)
    return
  }
  if (stat.isDirectory()) {
    mkdirSync(destination, { recursive: true })
    for (const entry of readdirSync(source)) copyFiltered(join(source, entry), join(destination, entry), context, ignored)
    return
  }
  mkdirSync(dirname(destination), { recursive: true })
  cpSync(source, destination)
}

export interface ReplayOptions {
  dockerfile: string
  context: string
  buildArgs: Record<string, string>
  /** Where the stages' root filesystems are made. */
  workspace: string
  /** Extra environment for RUN (PATH, HOME, npm cache...); the stage's ARG/ENV win. */
  runEnv?: Record<string, string>
  /** Stands in for the base image's `node` in RUN commands that start with `node `. */
  node?: string
}

export function replayDockerfile(options: ReplayOptions): ReplayedStage[] {
  const text = readFileSync(options.dockerfile, 'utf8')
  const ignoreFile = `${options.dockerfile}.dockerignore`
  const ignored = ignoredBy(
    existsSync(ignoreFile)
      ? readFileSync(ignoreFile, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'))
      : [],
  )
  const globalArgs: Record<string, string> = {}
  const stages: ReplayedStage[] = []
  let stage: ReplayedStage | undefined
  let vars: Record<string, string> = {}
  const inImage = (path: string) => join(stage!.rootfs, path.startsWith('/') ? path : join(stage!.workdir, path))

  for (const { keyword, args } of parseDockerfile(text)) {
    if (keyword === 'ARG') {
      const [name, def] = args.split('=', 2) as [string, string | undefined]
      const value = options.buildArgs[name] ?? def ?? globalArgs[name] ?? ''
      if (stage) vars[name] = value
      else globalArgs[name] = value
      continue
    }
    if (keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(expand(args, globalArgs))
      if (!m) throw new Error(`FROM ${args}`)
      const name = m[2] ?? `stage${stages.length}`
      // FROM an earlier stage starts from its state; its files are shared, not copied (no stage here writes to a parent's).
      const parent = stages.find((s) => s.name === m[1])
      stage = parent ? { ...parent, name, env: { ...parent.env }, runs: [] } : { name, rootfs: join(options.workspace, name), workdir: '/', user: undefined, cmd: undefined, env: {}, runs: [] }
      mkdirSync(stage.rootfs, { recursive: true })
      stages.push(stage)
      vars = {}
      continue
    }
    if (!stage) throw new Error(`${keyword} before FROM`)
    const all = { ...vars, ...stage.env }
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = expand(args, all).startsWith('/') ? expand(args, all) : join(stage.workdir, expand(args, all))
        mkdirSync(inImage(stage.workdir), { recursive: true })
        break
      case 'ENV': {
        const m = /^(\S+?)[= ](.*)$/.exec(args)
        if (m) stage.env[m[1]!] = expand(m[2]!.replace(/^"|"$/g, ''), all)
        break
      }
      case 'COPY': {
        const parts = args.split(/\s+/)
        const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length)
        const paths = parts.filter((p) => !p.startsWith('--')).map((p) => expand(p, all))
        const destination = paths.pop()!
        for (const src of paths) {
          const source = from ? join(stages.find((s) => s.name === from)!.rootfs, src) : join(options.context, src)
          if (!existsSync(source)) throw new Error(`COPY ${src}: not in the ${from ? `stage ${from}` : 'build context'}`)
          const target = inImage(destination)
          if (from) {
            // Between stages everything is copied as it is, symlinks included (even dangling ones).
            cpSync(source, target, { recursive: true, verbatimSymlinks: true })
            continue
          }
          const intoDir = destination.endsWith('/') || paths.length > 1 || statSync(source).isDirectory()
          copyFiltered(source, intoDir && !statSync(source).isDirectory() ? join(target, src.split('/').pop()!) : target, options.context, ignored)
        }
        break
      }
      case 'RUN': {
        stage.runs.push(args)
        const runStarted = Date.now()
        // The base image's node is Node 24; here a RUN that starts with `node ` gets the one given.
        const command = options.node && args.startsWith('node ') ? `"${options.node}" ${args.slice('node '.length)}` : args
        execFileSync('sh', ['-c', command], {
          cwd: inImage(stage.workdir),
          env: { ...options.runEnv, ...all },
          stdio: ['ignore', 'pipe', 'pipe'],
          maxBuffer: 64 * 1024 * 1024,
        })
        if (process.env.REPLAY_DEBUG) process.stderr.write(`RUN ${args}: ${Date.now() - runStarted} ms\n`)
        break
      }
      case 'USER':
        stage.user = expand(args, all)
        break
      case 'CMD':
        stage.cmd = JSON.parse(args) as string[]
        break
      case 'EXPOSE':
      case 'LABEL':
      case 'HEALTHCHECK':
        break
      default:
        throw new Error(`the replay does not know ${keyword}`)
    }
  }
  return stages
}
