/** Where the running providers are, handed to a verification process. */
export interface ProviderUrls {
  identityUrl: string
  tokenServiceUrl?: string
  todoApiUrl?: string
}

export function required(urls: ProviderUrls, name: 'tokenServiceUrl' | 'todoApiUrl'): string {
  const url = urls[name]
  if (!url) throw new Error(`${name} is required for these provider states`)
  return url
}
