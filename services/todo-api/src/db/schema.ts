import type { ColumnType, Generated } from 'kysely'

/** The `todos` table (created by migrations/0001-create-todos.ts). */
export interface TodoTable {
  id: Generated<string>
  /** The access token's `sub`; todo-api trusts one issuer, so (iss, sub) reduces to sub (R17). */
  owner: string
  title: string
  completed: Generated<boolean>
  order: number | null
  /** timestamptz(3): millisecond precision, so a JS Date round-trips exactly (keyset paging relies on it). */
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, never>
}

export interface Database {
  todos: TodoTable
}
