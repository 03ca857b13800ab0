import { readFileSync } from 'node:fs'
import type { GatewayConfig } from './gateway-config.ts'
import { upstreamServers, upstreamVariables } from './gateway-config.ts'
import { upstreamNames } from './routes.ts'

export const templateFile = new URL('./default.conf.template', import.meta.url)

/** The values the template's ${NAME} placeholders take, as the container's environment would give them. */
export function templateVariables(config: GatewayConfig): Record<string, string> {
  const vars: Record<string, string> = {
    GATEWAY_HOST: config.host,
    GATEWAY_PORT: String(config.port),
    WEB_ROOT: config.webRoot,
  }
  // Several servers of one upstream become one `server` line each in its upstream block (round robin).
  for (const name of upstreamNames) vars[upstreamVariables[name]] = upstreamServers(config.upstreams[name]).join(';\n    server ')
  return vars
}

/**
 * envsubst as the nginx image runs it (docker-entrypoint.d/20-envsubst-on-templates.sh):
 * only the listed variables are replaced. A placeholder left over is an error here
 * (envsubst would leave it and nginx would fail on it later, less clearly).
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  const out = template.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (whole, name: string) => vars[name] ?? whole)
  const left = [...out.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1])
  if (left.length > 0) throw new Error(`gateway template: no value for ${[...new Set(left)].join(', ')}`)
  return out
}

export function renderGatewayConf(config: GatewayConfig): string {
  return renderTemplate(readFileSync(templateFile, 'utf8'), templateVariables(config))
}

/**
 * The main nginx.conf around the rendered server config for a run outside the
 * container (Debian's nginx, not root-owned paths): the image's own nginx.conf
 * plays this part in compose. Everything nginx writes stays under `dir`.
 */
export function renderMainConf(dir: string, gatewayConfPath: string, logLevel: GatewayConfig['logLevel']): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr ${logLevel};

events {
    worker_connections 512;
}

http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${gatewayConfPath};
}
`
}
