import { createRequire } from 'node:module'

/**
 * OpenTelemetry tracing, off unless the standard OTEL_TRACES_EXPORTER names an exporter
 * (`otlp`, `console`; unset or `none`: off) and OTEL_SDK_DISABLED is not `true`. Import this
 * first in server.ts (or preload it with `node --import @todo-auth/observability/tracing`): when
 * off, nothing else is loaded; when on, the SDK starts synchronously, before Fastify loads
 * node:http, so the HTTP server and fetch (undici) calls are instrumented.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none')
  return exporters.length > 0 && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
}

/** Paths probed every few seconds: no span for them. */
const probes = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Starts the OpenTelemetry Node SDK, configured by the standard OTEL_* variables (exporter,
 * endpoint, protocol, service name, sampler, batch delays, propagators: W3C traceparent by
 * default), with spans for incoming HTTP requests and outgoing fetch calls (the JWKS fetches).
 * require, not import(): a dynamic import would let server.ts's other imports (Fastify, node:http) run first.
 */
export function startTracing(): void {
  const require = createRequire(import.meta.url)
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node')
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http')
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici')
  const sdk = new NodeSDK({
    instrumentations: [new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => probes.has((request.url ?? '').split('?', 1)[0] ?? '') }), new UndiciInstrumentation()],
  })
  sdk.start()
  // Flush what is batched when the process is asked to stop (the services exit on SIGTERM once closed).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void sdk.shutdown().catch(() => undefined))
}

if (tracingEnabled(process.env)) startTracing()
