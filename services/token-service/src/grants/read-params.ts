import type { FastifyRequest } from 'fastify'
import { InvalidRequest } from '../errors.ts'

/** Parameters of an OAuth endpoint: each present at most once, each a string. */
export type OAuthParams = ReadonlyMap<string, string>

const maxParams = 32
const maxValueLength = 8192

/**
 * Reads the body of `POST /oauth/token` or `/oauth/revoke`: form-urlencoded
 * (RFC 6749 §3.2) or JSON (SPEC §3). A repeated parameter, a non-string
 * value or parameters in the URL are `invalid_request` (RFC 6749 §3.2;
 * tokens never travel in a query string, R19).
 */
export function readParams(request: FastifyRequest): OAuthParams {
  if (request.url.includes('?')) throw new InvalidRequest('parameters must be sent in the request body')
  const body: unknown = request.body
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidRequest('the request body must be a form or a JSON object')
  const entries = Object.entries(body)
  if (entries.length > maxParams) throw new InvalidRequest('too many parameters')
  const params = new Map<string, string>()
  for (const [name, value] of entries) {
    if (Array.isArray(value)) throw new InvalidRequest(`parameter ${safeName(name)} is repeated`)
    if (typeof value !== 'string') throw new InvalidRequest(`parameter ${safeName(name)} must be a string`)
    if (value.length > maxValueLength) throw new InvalidRequest(`parameter ${safeName(name)} is too long`)
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    if (value !== '') params.set(name, value)
  }
  return params
}

/** Names are echoed in descriptions only when they look like parameter names. */
export function safeName(name: string): string {
  return /^[a-z_]{1,40}$/.test(name) ? name : '(unnamed)'
}

export function required(params: OAuthParams, name: string): string {
  const value = params.get(name)
  if (value === undefined) throw new InvalidRequest(`${name} is required`)
  return value
}
