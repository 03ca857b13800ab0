import Fastify from 'fastify'
import { announce } from './listening.ts'

// Baseline: the cheapest useful Fastify route, same JSON body shape as the auth routes.
const app = Fastify({ logger: false })
app.get('/auth', async () => ({ sub: 'anonymous' }))
await app.listen({ host: '127.0.0.1', port: 0 })
announce(app.server.address())
