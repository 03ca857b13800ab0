export * from './pg.ts'
export * from './redis.ts'
export * from './spawn-service.ts'
export * from './identity.ts'
