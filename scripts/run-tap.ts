// Runs tap over the whole workspace and ends with one plain summary line
// ("tests: N passed, N failed") that CI can read whatever tap's reporter prints.
import { spawn } from 'node:child_process'

const child = spawn('tap', process.argv.slice(2), { stdio: ['ignore', 'pipe', 'inherit'], env: process.env })
let tail = ''
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString('utf8')).slice(-20_000)
})
// 'close', not 'exit': only then has all of tap's output been read and echoed.
child.on('close', (code, signal) => {
  // tap's own closing comment: "# { total: 12, pass: 11, fail: 1, ... }"
  const summaries = [...tail.matchAll(/#\s*\{\s*total:\s*(\d+)([^}]*)\}/g)]
  const last = summaries.at(-1)
  if (last) {
    const field = (name: string) => Number(new RegExp(`${name}:\\s*(\\d+)`).exec(last[2] ?? '')?.[1] ?? 0)
    const skipped = field('skip') + field('todo')
    process.stdout.write(`\ntests: ${field('pass')} passed, ${field('fail')} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
  }
  process.exit(code ?? (signal ? 1 : 0))
})
