// `pnpm build` is tsc -b over every <package>/tsconfig.build.json (tsconfig.build.base.json: emit,
// relative .ts imports rewritten to .js). What the build must keep true: every package that ships
// dist/ is built, each build config references the workspace packages it imports, the output runs
// without a .ts import left, and what tsc cannot emit faithfully fails the build.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'

const root = join(import.meta.dirname, '..')
const tsc = join(root, 'node_modules/typescript/bin/tsc')
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T

interface Manifest {
  name: string
  exports?: Record<string, unknown>
  dependencies?: Record<string, string>
  scripts?: Record<string, string>
}

const workspacePackages = ['packages', 'services'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => `${group}/${name}`)
    .filter((dir) => existsSync(join(root, dir, 'package.json'))),
)

t.test('every package that runs in production has a tsconfig.build.json the root build picks up', async (t) => {
  const rootBuild = readJson<Manifest>(join(root, 'package.json')).scripts?.build ?? ''
  for (const dir of workspacePackages) {
    const manifest = readJson<Manifest>(join(root, dir, 'package.json'))
    const shipsDist = dir.startsWith('services/') || JSON.stringify(manifest.exports ?? {}).includes('todo-auth-dist')
    if (!shipsDist) continue
    t.ok(existsSync(join(root, dir, 'tsconfig.build.json')), `${dir} has a tsconfig.build.json`)
    t.ok(rootBuild.includes(`${dir.split('/')[0]}/*/tsconfig.build.json`), `the root build includes ${dir}`)
    t.equal(manifest.scripts?.build, 'rm -rf dist && tsc -b tsconfig.build.json', `${dir} has the same build script as every package`)
    // tsc -b builds a referenced package first and reads its declarations; an unreferenced one would be compiled into this dist/.
    const references = (readJson<{ references?: { path: string }[] }>(join(root, dir, 'tsconfig.build.json')).references ?? []).map((r) => r.path)
    for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
      if (!version.startsWith('workspace:')) continue
      const target = `packages/${name.replace('@todo-auth/', '')}/tsconfig.build.json`
      t.ok(
        references.some((path) => join(dir, path) === target),
        `${dir} references ${target}`,
      )
    }
  }
})

function fixture(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'build-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = {
    extends: join(root, 'tsconfig.build.base.json'),
    compilerOptions: { rootDir: 'src', outDir: 'dist', typeRoots: [join(root, 'node_modules/@types')], tsBuildInfoFile: 'dist/.tsbuildinfo' },
    include: ['src'],
  }
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify(config))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'src', path, '..'), { recursive: true })
    writeFileSync(join(dir, 'src', path), text)
  }
  return dir
}

const build = (dir: string) => execFileSync(process.execPath, [tsc, '-b', join(dir, 'tsconfig.build.json')], { stdio: 'pipe', encoding: 'utf8' })

t.test('tsc emits dist/ with relative .ts imports renamed .js, and the result runs', async (t) => {
  const dir = fixture(t, {
    'index.ts': [
      "import type { Shape } from './types.ts'",
      "import { area } from './geometry/area.ts'",
      "export * from './geometry/area.ts'",
      "export const name: string = 'dist'",
      'export async function late(): Promise<number> {',
      "  const { area: again } = await import('./geometry/area.ts')",
      '  return again({ w: 2, h: 3 } satisfies Shape)',
      '}',
      'export const six = area({ w: 2, h: 3 })',
      '',
    ].join('\n'),
    'types.ts': 'export interface Shape { w: number; h: number }\n',
    'geometry/area.ts': "import type { Shape } from '../types.ts'\nexport const area = (s: Shape): number => s.w * s.h\n",
  })
  build(dir)
  const index = readFileSync(join(dir, 'dist/index.js'), 'utf8')
  t.match(index, 'from "./geometry/area.js"')
  t.match(index, 'import("./geometry/area.js")')
  t.notMatch(index, /\.ts['"]/, 'no .ts import is left')
  t.notMatch(index, /: string|Promise<number>|satisfies/, 'types are gone')
  t.ok(existsSync(join(dir, 'dist/index.js.map')), 'with a source map')
  const built = (await import(pathToFileURL(join(dir, 'dist/index.js')).href)) as { six: number; late: () => Promise<number>; area: unknown; name: string }
  t.equal(built.six, 6)
  t.equal(await built.late(), 6)
  t.equal(built.name, 'dist')
  t.type(built.area, 'function', 're-exports work')
})

t.test('refuses what it cannot build faithfully', async (t) => {
  const missing = fixture(t, { 'a.ts': "import { b } from './b.ts'\nexport const a = b\n" })
  t.throws(() => build(missing), 'an import of a missing file fails the build')
  const enumSyntax = fixture(t, { 'a.ts': 'export enum Color { Red }\n' })
  t.throws(() => build(enumSyntax), 'an enum is not erasable (erasableSyntaxOnly): the build fails, as Node would')
})
