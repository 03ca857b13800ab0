import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const ci = readFileSync(join(root, '.ci', 'run'), 'utf8')

function firstCodeBlock(markdown: string): string[] {
  const match = /```sh\n([\s\S]*?)```/.exec(markdown)
  return (match?.[1] ?? '').split('\n').filter((line) => line.trim().length > 0)
}

const commandOf = (line: string) => line.replace(/\s+#.*$/, '').trim()

t.test('the README opens with exactly two commands: start the stack, run every test', async (t) => {
  const lines = firstCodeBlock(readme)
  t.equal(lines.length, 2)
  t.match(commandOf(lines[0] ?? ''), /install && .* start$/)
  t.match(commandOf(lines[1] ?? ''), /install && .* test$/)
  t.ok(readme.indexOf('```sh') < readme.indexOf('##'), 'the commands come before any section')
})

t.test('.ci/run calls the README test command and nothing weaker', async (t) => {
  const testCommand = commandOf(firstCodeBlock(readme)[1] ?? '')
  const ciCommand =
    ci
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .at(-1) ?? ''
  // CI may pin the lockfile; otherwise it is the same command.
  t.equal(ciCommand.replace(' --frozen-lockfile', ''), testCommand)
})

t.test('the test script type-checks the whole workspace before running tap', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.match(pkg.scripts.test, /tsc -p tsconfig\.json --noEmit/)
  t.match(pkg.scripts.test, /run-tap\.ts/)
  t.match(pkg.scripts.test, /biome (lint|ci) .*tsc -p tsconfig\.json/, 'Biome lints before tsc (the fastest failure first)')
  // tap applies the package.json plugin list (no ts-node: Node 24 strips types) only after a
  // build; without it the first run of a fresh clone loads every file through ts-node.
  t.match(pkg.scripts.test, /tap build .*run-tap\.ts/)
})
