// `pnpm build`: the production form of the services. Every `src/**/*.ts` of the packages a service
// runs (identity, token-service, todo-api, contracts, service-config, token-verifier) becomes `dist/**/*.js`, its
// types stripped by Node's own stripper (the same transform Node applies when it runs the .ts file,
// so dist behaves as src does; types are replaced by spaces, so lines and columns in stack traces
// still point at the sources) and its relative `.ts` imports renamed `.js`. A process started from
// dist never loads Node's TypeScript stripper: about 20 MB less memory per service, and a faster
// start (docs/performance.md). Workspace packages resolve to dist/ under the `todo-auth-dist` export
// condition: run `node --conditions=todo-auth-dist dist/server.js` (productionNodeFlags below).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { stripTypeScriptTypes } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'

export const buildPackages = ['packages/contracts', 'packages/service-config', 'packages/token-verifier', 'services/identity', 'services/token-service', 'services/todo-api'] as const

/**
 * Node flags a production service runs with (the Dockerfiles' CMD and the bench use these):
 * dist/ for workspace packages, and a young generation of at most 3 × 4 MB. V8's default lets it grow
 * to 3 × 16 MB under load, and with 32 requests in flight each scavenge then copies several MB
 * of live request state (pauses of 7–11 ms) and promotes it, so the old generation fills with
 * garbage between full collections: about 100 MB more RSS per service for a few % more req/s.
 */
export const productionNodeFlags = ['--conditions=todo-auth-dist', '--max-semi-space-size=4', '--heap-growing-percent=100'] as const

// A relative specifier ending in .ts in an import or export: `from './x.ts'`, `import './x.ts'`, `import('./x.ts')`.
// A pattern, not a parser: text in a string or comment shaped exactly like such an import would be
// rewritten too, so every match must name a source file that exists (or the build fails), and a
// missed import fails loudly at start-up (dist/ holds no .ts file). The tests start every service from dist/.
const relativeTsSpecifier = /(\b(?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"\n]*?)\.ts\2/g

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Builds one package's dist/ from its src/; returns the number of files written. Throws on anything it cannot build faithfully. */
export function buildPackage(packageDir: string): number {
  const src = join(packageDir, 'src')
  const dist = join(packageDir, 'dist')
  rmSync(dist, { recursive: true, force: true })
  const files = sourceFiles(src)
  for (const file of files) {
    const out = join(dist, relative(src, file)).replace(/\.ts$/, '.js')
    // Throws on syntax that is not erasable (enums, namespaces, parameter properties): Node could not run it either.
    const code = stripTypeScriptTypes(readFileSync(file, 'utf8'), { mode: 'strip' }).replace(relativeTsSpecifier, (_match, head: string, quote: string, path: string) => {
      if (!existsSync(resolve(dirname(file), `${path}.ts`))) throw new Error(`${file}: imports ${path}.ts, which does not exist`)
      return `${head}${quote}${path}.js${quote}`
    })
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, code)
  }
  return files.length
}

if (import.meta.main) {
  // stripTypeScriptTypes prints an ExperimentalWarning on Node 24: expected here, not worth a line.
  process.removeAllListeners('warning')
  const root = join(import.meta.dirname, '..')
  const targets = process.argv.length > 2 ? process.argv.slice(2) : [...buildPackages]
  for (const target of targets) {
    const count = buildPackage(join(root, target))
    process.stdout.write(`build: ${target}/dist (${count} files)\n`)
  }
}
