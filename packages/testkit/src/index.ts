export * from './pg.ts'
export * from './redis.ts'
