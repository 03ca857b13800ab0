import formbody from '@fastify/formbody'
import fp from 'fastify-plugin'
import { parseForm } from '../grants/parse-form.ts'

/** @fastify/formbody with the strict form parser (a repeated parameter is invalid_request, R56). */
export const formBodyPlugin = fp(
  async (app) => {
    await app.register(formbody, { parser: parseForm })
  },
  { name: 'form-body' },
)
