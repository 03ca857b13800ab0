import t from 'tap'
import pg from 'pg'
import { Redis } from 'ioredis'
import { createTestSchema, createTestRedisPrefix, testRedisUrl } from '../src/index.ts'

t.test('a test schema pins search_path so unqualified tables land in it, and drop removes it', async (t) => {
  const schema = await createTestSchema()
  const client = new pg.Client({ connectionString: schema.url })
  await client.connect()
  await client.query('create table probe (id int)')
  const { rows } = await client.query<{ table_schema: string }>("select table_schema from information_schema.tables where table_name = 'probe' and table_schema = $1", [schema.name])
  await client.end()
  t.equal(rows.length, 1)
  await schema.drop()
  const check = new pg.Client({ connectionString: schema.url.split('?')[0] })
  await check.connect()
  const after = await check.query('select 1 from information_schema.schemata where schema_name = $1', [schema.name])
  await check.end()
  t.equal(after.rowCount, 0)
})

t.test('a redis prefix cleanup deletes only keys under that prefix', async (t) => {
  const a = createTestRedisPrefix()
  const b = createTestRedisPrefix()
  const redis = new Redis(testRedisUrl)
  t.teardown(() => redis.disconnect())
  await redis.set(`${a.prefix}k1`, '1')
  await redis.set(`${b.prefix}k1`, '1')
  await a.cleanup()
  t.equal(await redis.exists(`${a.prefix}k1`), 0)
  t.equal(await redis.exists(`${b.prefix}k1`), 1)
  await b.cleanup()
  t.equal(await redis.exists(`${b.prefix}k1`), 0)
})
