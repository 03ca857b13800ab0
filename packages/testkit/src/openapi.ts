import { Validator } from '@seriousme/openapi-schema-validator'

/** An OpenAPI document as a service serves it. */
export interface OpenApiDocument {
  openapi: string
  paths?: Record<string, Record<string, unknown>>
}

/** The problems of a document against the OpenAPI schema of its version (3.0, 3.1); none when valid. */
export async function openApiProblems(document: OpenApiDocument): Promise<string[]> {
  const result = await new Validator().validate(document as unknown as Record<string, unknown>)
  if (result.valid) return []
  return typeof result.errors === 'string' ? [result.errors] : (result.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`)
}

const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** Every documented operation, its path parameters filled with `x` (a request that must be routed). */
export function documentedOperations(document: OpenApiDocument): { method: string; path: string; url: string }[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => methods.has(method))
      .map((method) => ({ method: method.toUpperCase(), path, url: path.replace(/\{[^}]+\}/g, 'x') })),
  )
}
