/**
 * DEPLOYMENT_ID's default: with REDIS_URL alone the app starts, and its Redis keys carry the
 * database's identity (server system identifier and database name), so two instances on one
 * database share the Redis tier and an instance on another database does not; set explicitly,
 * DEPLOYMENT_ID wins. Needs TEST_REDIS_URL and says so when it is missing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import { databaseIdentity } from '../../src/db/deployment-identity.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts'

const redisUrl = process.env.TEST_REDIS_URL
describe('DEPLOYMENT_ID derived from the database', { skip: redisUrl ? false : 'TEST_REDIS_URL is not set: Redis tests skipped' }, () => {
  let database: TestDatabase
  let otherDatabase: TestDatabase
  let redis: Redis
  const apps: TestApp[] = []
  before(async () => {
    database = await createTestDatabase()
    otherDatabase = await createTestDatabase()
    redis = new Redis(redisUrl!)
  })
  after(async () => {
    for (const app of apps) await app.close()
    redis?.disconnect()
    await database?.drop()
    await otherDatabase?.drop()
  })

  const start = async (on: TestDatabase, deploymentId?: string): Promise<TestApp> => {
    const app = await startTestApp({ exposeSqlCount: true, redisUrl, redisCommandTimeoutMs: 5000, ...(deploymentId === undefined ? {} : { deploymentId }), cacheClockSkewMs: 0 }, { database: on })
    apps.push(app)
    return app
  }
  const keysOf = async (namespace: string): Promise<string[]> => redis.keys(`jotter:rc:v2:${namespace}:*`)

  test('REDIS_URL alone: instances on one database share entries under its identity; another database does not see them', async () => {
    const identity = await databaseIdentity(database.db.sql)
    assert.match(identity, /^\d+\.jotter_[A-Za-z0-9_]+$/)
    assert.notEqual(await databaseIdentity(otherDatabase.db.sql), identity)

    const first = await start(database)
    const second = await start(database)
    const elsewhere = await start(otherDatabase)
    const query = '{ users(first: 3) { id name } }'
    const miss = await first.gql(query)
    assert.ok((miss.body.extensions?.sqlStatements as number) > 0)
    assert.ok((await keysOf(identity)).length > 0, 'the entry is stored under the database identity')
    const shared = await second.gql(query)
    assert.equal(shared.body.extensions?.sqlStatements, 0, 'the second instance on the same database hits the shared tier')
    const apart = await elsewhere.gql(query)
    assert.ok((apart.body.extensions?.sqlStatements as number) > 0, 'an instance on another database does not')
  })

  test('set explicitly, DEPLOYMENT_ID wins', async () => {
    const explicit = `explicit-${process.pid}`
    const app = await start(database, explicit)
    await app.gql('{ users(first: 2) { id name } }')
    assert.ok((await keysOf(explicit)).length > 0)
    await redis.del(...await keysOf(explicit))
  })
})
