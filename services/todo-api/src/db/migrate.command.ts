// `pnpm --filter @todo-auth/todo-api migrate`: brings the configured database to the latest schema.
// Output is JSON lines (the service's log format); the exit code says whether it worked.
import { ConfigError, loadConfig } from '../config.ts'
import { openDatabase } from './database.ts'
import { migrateToLatest } from './migrate.ts'

const line = (level: number, fields: Record<string, unknown>) => (level >= 50 ? process.stderr : process.stdout).write(`${JSON.stringify({ level, time: Date.now(), ...fields })}\n`)

let exitCode = 0
try {
  const config = loadConfig(process.env)
  const database = openDatabase(config.database, { onIdleError: () => {} })
  try {
    try {
      await database.ping()
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message
      line(60, { event: 'migrate_failed', reason: 'database_unreachable', target: database.target, msg: `cannot reach the database (${database.kind}) at ${database.target}: ${reason}` })
      exitCode = 1
    }
    if (exitCode === 0) {
      const results = await migrateToLatest(database.db)
      for (const result of results ?? []) line(30, { event: 'migration', migration: result.migrationName, status: result.status })
      line(30, { event: 'migrated', target: database.target, msg: 'database schema is up to date' })
    }
  } finally {
    await database.close().catch(() => {})
  }
} catch (error) {
  if (error instanceof ConfigError) line(60, { event: 'migrate_failed', reason: 'invalid_configuration', code: error.code, errors: error.errors })
  else line(60, { event: 'migrate_failed', reason: 'migration_failed', msg: (error as Error).message })
  exitCode = 1
}
process.exitCode = exitCode
