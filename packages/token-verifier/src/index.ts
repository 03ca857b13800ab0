export * from './errors.ts'
export * from './jwks/remote-key-set.ts'
