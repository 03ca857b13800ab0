import t from 'tap'
import { Compile } from 'typebox/compile'
import { TodoList } from '@todo-auth/contracts'
import { build } from './helpers/build.ts'

const checkList = Compile(TodoList)
const built = await build(t, { TRUST_PROXY: '127.0.0.1' })
const { app } = built
const headers = { ...(await built.auth()), 'content-type': 'application/json' }

/** Follows rel="next" links from `url`, returning every page's titles and the links seen. */
async function walk(url: string, extraHeaders: Record<string, string> = {}) {
  const pages: string[][] = []
  const links: string[] = []
  let next: string | undefined = url
  while (next !== undefined) {
    const res = await app.inject({ url: next, headers: { ...headers, ...extraHeaders } })
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
    if (!checkList.Check(res.json())) throw new Error('page does not match TodoList')
    pages.push((res.json() as Array<{ title: string }>).map((todo) => todo.title))
    const link = res.headers.link as string | undefined
    if (link === undefined) {
      next = undefined
    } else {
      links.push(link)
      const match = /^<([^>]+)>; rel="next"$/.exec(link)
      if (!match) throw new Error(`bad Link ${link}`)
      const target = new URL(match[1]!)
      next = `${target.pathname}${target.search}`
    }
  }
  return { pages, links }
}

// 7 todos: orders 2, null, 1, 1, null, 3, 2 (by creation), so the list order is
// o1a o1b o2a o2b o3 n1 n2.
const seed: Array<[string, number | null, boolean]> = [
  ['o2a', 2, false],
  ['n1', null, true],
  ['o1a', 1, false],
  ['o1b', 1, true],
  ['n2', null, false],
  ['o3', 3, true],
  ['o2b', 2, false],
]
for (const [title, order, completed] of seed) {
  await app.inject({ method: 'POST', url: '/todos', headers, payload: { title, order, completed } })
}

t.test('limit pages through the whole list in order with Link rel="next"', async (t) => {
  const { pages, links } = await walk('/todos?limit=3')
  t.same(pages, [['o1a', 'o1b', 'o2a'], ['o2b', 'o3', 'n1'], ['n2']])
  t.equal(links.length, 2)
  t.match(links[0], /^<http:\/\/localhost:80\/todos\?limit=3&after=[A-Za-z0-9_-]+>; rel="next"$/)
})

t.test('page boundaries inside the null-order tail work', async (t) => {
  const { pages } = await walk('/todos?limit=1')
  t.same(pages.flat(), ['o1a', 'o1b', 'o2a', 'o2b', 'o3', 'n1', 'n2'])
  t.equal(pages.length, 7)
})

t.test('the completed filter is kept in the next link', async (t) => {
  const { pages, links } = await walk('/todos?completed=false&limit=2')
  t.same(pages.flat(), ['o1a', 'o2a', 'o2b', 'n2'])
  t.match(links[0], /completed=false&limit=2&after=/)
})

t.test('no Link when the page holds everything, and the default limit is 100', async (t) => {
  const res = await app.inject({ url: '/todos', headers })
  t.equal(res.json().length, 7)
  t.notOk(res.headers.link)
  const exact = await app.inject({ url: '/todos?limit=7', headers })
  t.notOk(exact.headers.link, 'exactly limit rows: no next page')
  const max = await app.inject({ url: '/todos?limit=500', headers })
  t.equal(max.statusCode, 200)
})

t.test('a todo added behind the cursor is neither skipped nor repeated', async (t) => {
  const first = await app.inject({ url: '/todos?limit=3', headers })
  const link = /^<([^>]+)>/.exec(first.headers.link as string)![1]!
  await app.inject({ method: 'POST', url: '/todos', headers, payload: { title: 'o0-late', order: 0 } })
  const target = new URL(link)
  const second = await app.inject({ url: `${target.pathname}${target.search}`, headers })
  t.same(
    (second.json() as Array<{ title: string }>).map((todo) => todo.title),
    ['o2b', 'o3', 'n1'],
  )
  await app.inject({ method: 'DELETE', url: `/todos/${(first.json() as Array<{ id: string }>)[0]!.id}`, headers })
})

t.test('Link and url follow X-Forwarded-Proto/Host from a trusted proxy', async (t) => {
  const res = await app.inject({
    url: '/todos?limit=2',
    headers: { ...headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'todo.example.com' },
  })
  t.match(res.headers.link, /^<https:\/\/todo\.example\.com\/todos\?limit=2&after=/)
  t.ok((res.json() as Array<{ url: string }>).every((todo) => todo.url.startsWith('https://todo.example.com/todos/')))
})
