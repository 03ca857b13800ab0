export { currentRequestId, isValidRequestId, requestIdHeader, requestIdOf, requestIdPattern, requestIdServerOptions, runWithRequestId, withRequestId } from './request-id.ts'
export { requestIdPlugin } from './request-id.plugin.ts'
export { openApiPlugin, type OpenApiPluginOptions } from './openapi.plugin.ts'
