import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The machine's PostgreSQL (trust auth); TEST_DATABASE_URL overrides it. */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestSchema {
  /** The schema's name, `t_<random>`. */
  name: string
  /** A connection string whose connections use only this schema (search_path). */
  url: string
  drop(): Promise<void>
}

/**
 * Creates a fresh schema so one test file never sees another's rows.
 * The returned URL pins `search_path` through the libpq `options` parameter,
 * which node-postgres passes on as a startup option.
 */
export async function createTestSchema(prefix = 't'): Promise<TestSchema> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: testDatabaseUrl })
  await client.connect()
  try {
    await client.query(`create schema "${name}"`)
  } finally {
    await client.end()
  }
  const url = new URL(testDatabaseUrl)
  url.searchParams.set('options', `-c search_path=${name}`)
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: testDatabaseUrl })
      await c.connect()
      try {
        await c.query(`drop schema if exists "${name}" cascade`)
      } finally {
        await c.end()
      }
    },
  }
}
