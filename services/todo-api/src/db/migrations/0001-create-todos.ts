import { sql, type Kysely } from 'kysely'

// Migrations take Kysely<any> and never import app code: they must keep working as the app changes.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('todos')
    .addColumn('id', 'uuid', (col) => col.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner', 'text', (col) => col.notNull())
    .addColumn('title', 'text', (col) => col.notNull().check(sql`char_length(title) between 1 and 500`))
    .addColumn('completed', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('order', 'integer')
    .addColumn('created_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  // GET /todos: where owner = $1 order by "order" nulls last, created_at, id (keyset paging).
  await db.schema.createIndex('todos_owner_order_idx').on('todos').columns(['owner', 'order', 'created_at', 'id']).execute()
  // GET /todos?completed=…: the same order within one completed value.
  await db.schema.createIndex('todos_owner_completed_order_idx').on('todos').columns(['owner', 'completed', 'order', 'created_at', 'id']).execute()
  // updated_at is the database's to set: no UPDATE can forget it.
  await sql`
    create function todos_touch_updated_at() returns trigger language plpgsql as $$
    begin
      new.updated_at := now();
      return new;
    end
    $$`.execute(db)
  await sql`create trigger todos_touch_updated_at before update on todos for each row execute function todos_touch_updated_at()`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('todos').execute()
  await sql`drop function if exists todos_touch_updated_at()`.execute(db)
}
