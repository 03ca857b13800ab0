// Runs tap over the whole workspace, then
// - enforces our coverage floor (tap itself only knows "100 % or nothing", so its
//   gate is off in package.json and this deliberate one takes its place), and
// - ends with one plain summary line ("tests: N passed, N failed") that CI can
//   read whatever tap's reporter prints.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** Percentages the whole suite must keep; raise them as coverage grows, never lower them quietly. */
const coverageFloor = { lines: 95, statements: 95, functions: 94, branches: 85 } as const

const args = process.argv.slice(2)
const summaryFile = join(process.cwd(), '.tap', 'report', 'coverage-summary.json')
rmSync(summaryFile, { force: true })

const child = spawn('tap', args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env })
let tail = ''
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString('utf8')).slice(-20_000)
})

// 'close', not 'exit': only then has all of tap's output been read and echoed.
child.on('close', (code, signal) => {
  let exitCode = code ?? (signal ? 1 : 0)
  // A run over chosen files (e.g. the contract suites) covers only part of the code: no floor then.
  const wholeSuite = args.every((arg) => arg.startsWith('-'))
  if (wholeSuite && existsSync(summaryFile)) {
    const total = (JSON.parse(readFileSync(summaryFile, 'utf8')) as { total: Record<string, { pct: number }> }).total
    const misses = Object.entries(coverageFloor).filter(([kind, floor]) => (total[kind]?.pct ?? 0) < floor)
    const shown = Object.entries(coverageFloor).map(([kind, floor]) => `${kind} ${total[kind]?.pct ?? 0}% (floor ${floor}%)`)
    process.stdout.write(`\ncoverage: ${shown.join(', ')}\n`)
    if (misses.length > 0) {
      process.stdout.write(`coverage below the floor: ${misses.map(([kind]) => kind).join(', ')}\n`)
      exitCode = exitCode || 1
    }
  }
  // tap's own closing comment: "# { total: 12, pass: 11, fail: 1, ... }"
  const last = [...tail.matchAll(/#\s*\{\s*total:\s*(\d+)([^}]*)\}/g)].at(-1)
  if (last) {
    const field = (name: string) => Number(new RegExp(`${name}:\\s*(\\d+)`).exec(last[2] ?? '')?.[1] ?? 0)
    const skipped = field('skip') + field('todo')
    process.stdout.write(`\ntests: ${field('pass')} passed, ${field('fail')} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
  }
  process.exit(exitCode)
})
