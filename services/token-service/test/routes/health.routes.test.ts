import t from 'tap'
import { build } from '../helpers/build.ts'

for (const store of ['redis', 'memory'] as const) {
  t.test(`healthz and readyz answer on both listeners (${store} store)`, async (t) => {
    const app = await build(t, {}, { store })
    const health = await app.publicApp.inject({ method: 'GET', url: '/healthz' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })
    const ready = await app.publicApp.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 200)
    t.equal(ready.json().status, 'ready')
    t.equal(ready.headers['x-content-type-options'], 'nosniff')
    const adminReady = await app.adminApp!.inject({ method: 'GET', url: '/readyz' })
    t.equal(adminReady.statusCode, 200)
  })
}
