export { ConfigError, ConfigErrorCode, configProblem, type ConfigProblem } from './config-error.ts'
export { loadEnv, expects, type ConfigRule, type EnvValues, type LoadEnvOptions } from './load-env.ts'
export { renderEnvTable } from './env-table.ts'
export { notTogether } from './rules.ts'
export { configErrorLine, configExitCode, loadConfigOrExit } from './exit-on-config-error.ts'
export { corsAnswer, type CorsPolicy } from './cors-policy.ts'
export { isAddressOrCidr, isOrigin, isUrl, parseHostPort, type HostPort, type Validator } from './validators.ts'
export {
  boolean,
  checked,
  corsOrigins,
  duration,
  hostPortList,
  integer,
  key,
  list,
  oneOf,
  optional,
  port,
  text,
  url,
  type IntegerOptions,
  type ListOptions,
  type TextOptions,
  type VariableMeta,
  type VariableOptions,
} from './variables.ts'
export { checkJsonBody, JsonBodyError, JsonBodyErrorCode, jsonMaxDepth } from './json-body.ts'
export { redactQuery, serializeRequest, type LoggedRequest } from './log-request.ts'
export { gracefulShutdown, shutdownDrainVariable, type GracefulShutdown, type GracefulShutdownOptions, type ShutdownPhase, type UnavailableAnswer } from './graceful-shutdown.ts'
