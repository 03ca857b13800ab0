// scripts/build.ts: the production dist/ of a package is its sources with the types stripped (same
// lines and columns) and relative .ts imports renamed .js; what cannot be built faithfully fails the build.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t, { type Test } from 'tap'
import { buildPackage } from '../scripts/build.ts'

function fixture(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'build-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'src', path, '..'), { recursive: true })
    writeFileSync(join(dir, 'src', path), text)
  }
  return dir
}

t.test('strips types in place, renames relative .ts imports, and the result runs', async (t) => {
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
  t.equal(buildPackage(dir), 3)
  const index = readFileSync(join(dir, 'dist/index.js'), 'utf8')
  const source = readFileSync(join(dir, 'src/index.ts'), 'utf8')
  t.equal(index.split('\n').length, source.split('\n').length, 'same number of lines: stack traces point at the sources')
  t.match(index, "from './geometry/area.js'")
  t.match(index, "import('./geometry/area.js')")
  t.notMatch(index, /: string|Promise<number>|satisfies/, 'types are gone')
  t.notOk(existsSync(join(dir, 'dist/index.ts')))
  const built = (await import(pathToFileURL(join(dir, 'dist/index.js')).href)) as { six: number; late: () => Promise<number>; area: unknown; name: string }
  t.equal(built.six, 6)
  t.equal(await built.late(), 6)
  t.equal(built.name, 'dist')
  t.type(built.area, 'function', 're-exports work')
})

t.test('a rebuild replaces dist/: a removed source leaves no stale file', async (t) => {
  const dir = fixture(t, { 'a.ts': 'export const a = 1\n', 'b.ts': 'export const b = 2\n' })
  buildPackage(dir)
  rmSync(join(dir, 'src/b.ts'))
  t.equal(buildPackage(dir), 1)
  t.notOk(existsSync(join(dir, 'dist/b.js')))
})

t.test('refuses what it cannot build faithfully', async (t) => {
  const missing = fixture(t, { 'a.ts': "import { b } from './b.ts'\nexport const a = b\n" })
  t.throws(() => buildPackage(missing), /imports \.\/b\.ts, which does not exist/)
  const enumSyntax = fixture(t, { 'a.ts': 'export enum Color { Red }\n' })
  t.throws(() => buildPackage(enumSyntax), 'an enum is not erasable: the build fails, as Node would')
})
