import express from 'express'
import { expressjwt } from 'express-jwt'
import jwksRsa from 'jwks-rsa'
import { announce } from './listening.ts'

// Peer: express + express-jwt + jwks-rsa with its cache and rate limit on.
const env = process.env
const app = express()
app.get(
  '/auth',
  expressjwt({
    secret: jwksRsa.expressJwtSecret({ jwksUri: env.JWKS_URL!, cache: true, rateLimit: true }) as never,
    algorithms: ['ES256'],
    issuer: env.ISSUER!,
    audience: env.AUDIENCE!,
  }),
  (request, response) => {
    response.json({ sub: (request as unknown as { auth: { sub: string } }).auth.sub })
  },
)
const server = app.listen(0, '127.0.0.1', () => announce(server.address()))
