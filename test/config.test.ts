/**
 * Configuration: the defaults, each variable's bad value named in the error, the order of the
 * timeouts, and what PRODUCTION=true requires and refuses.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, configOptions, configWith, loadConfig } from '../src/config.ts'

const SECRET = 's'.repeat(32)

function assertRefused (env: Record<string, string>, name: string, value?: string): void {
  assert.throws(() => loadConfig(env), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error))
    assert.ok(error.message.includes(name), `"${error.message}" names ${name}`)
    if (value !== undefined) assert.ok(error.message.includes(value), `"${error.message}" shows ${value}`)
    return true
  })
}

describe('defaults', () => {
  test('an empty environment gives the documented defaults, frozen', () => {
    const config = loadConfig({})
    assert.equal(config.port, 8080)
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.databaseUrl, undefined)
    assert.equal(config.redisUrl, undefined)
    assert.equal(config.jwtSecret, undefined)
    assert.equal(config.tokenTtlSeconds, 3600)
    assert.equal(config.logLevel, 'info')
    assert.equal(config.workers, 1)
    assert.equal(config.production, false)
    assert.ok(Object.isFrozen(config))
    assert.throws(() => { (config as { port: number }).port = 1 }, TypeError)
  })

  test('every option parses its own default, and an empty value means the default', () => {
    const emptied = Object.fromEntries(configOptions.map((option) => [option.env, '']))
    assert.deepEqual(loadConfig(emptied), loadConfig({}))
    for (const option of configOptions) {
      if (option.fallback !== undefined) assert.doesNotThrow(() => option.parse(option.fallback as string, option.env), option.env)
    }
  })

  test('every option is documented, and env names are unique', () => {
    const names = configOptions.map((option) => option.env)
    assert.equal(new Set(names).size, names.length)
    for (const option of configOptions) assert.ok(option.doc.length > 5, `${option.env} has a doc`)
  })

  test('values are parsed: durations, booleans, numbers, URLs', () => {
    const config = loadConfig({
      PORT: '0',
      TOKEN_TTL: '15m',
      PRODUCTION: 'TRUE',
      JWT_SECRET: SECRET,
      WORKERS: '64',
      DATABASE_URL: 'postgresql://u@h/db',
      REDIS_URL: 'rediss://h:6380',
      DEPLOYMENT_ID: 'prod-eu.1',
      LOG_LEVEL: 'debug'
    })
    assert.equal(config.port, 0)
    assert.equal(config.tokenTtlSeconds, 900)
    assert.equal(config.production, true)
    assert.equal(config.workers, 64)
    assert.equal(config.databaseUrl, 'postgresql://u@h/db')
    assert.equal(config.redisUrl, 'rediss://h:6380')
    for (const [raw, seconds] of [['3600', 3600], ['90s', 90], ['1h', 3600], ['7d', 604_800]] as const) {
      assert.equal(loadConfig({ TOKEN_TTL: raw }).tokenTtlSeconds, seconds)
    }
  })
})

describe('a bad value names the variable and the value got', () => {
  // [variable, value, what the message must show (default: the value); URLs show only their
  // protocol, since a URL may carry a password]
  const cases: Array<[string, string, string?]> = [
    ['PORT', 'eighty'], ['PORT', '65536'], ['PORT', '-1'], ['PORT', '80.5'],
    ['DATABASE_URL', 'not a url'], ['DATABASE_URL', 'mysql://u:pw@h/db', 'mysql:'],
    ['REDIS_URL', 'http://h:6379', 'http:'],
    ['TOKEN_TTL', '1 hour'], ['TOKEN_TTL', '0'], ['TOKEN_TTL', '-5m'],
    ['LOG_LEVEL', 'verbose'],
    ['WORKERS', '0'], ['WORKERS', '65'],
    ['PRODUCTION', 'yes'],
    ['DB_POOL_MAX', '0'],
    ['CACHE_TTL_BY_TYPE', 'User:5'],
    ['BODY_LIMIT_BYTES', '10'],
    ['DATABASE_LISTEN_URL', 'http://h/db', 'http:'],
    ['DEPLOYMENT_ID', 'two words'], ['DEPLOYMENT_ID', 'x'.repeat(65)],
    ['ROW_CACHE_TTL_MS', '0'],
    ['CACHE_BUS_HEARTBEAT_MS', '99']
  ]
  for (const [name, value, shown = value] of cases) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      assertRefused({ [name]: value }, name, shown)
    })
  }

  test('a URL\'s password is not echoed', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://u:pw-secret@h/db' }), (error: Error) => !error.message.includes('pw-secret'))
  })

  test('the limits of an integer option are accepted on both sides', () => {
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535)
    assert.equal(loadConfig({ WORKERS: '1' }).workers, 1)
    assertRefused({ WORKERS: '0' }, 'WORKERS', '0')
  })

  test('a short JWT_SECRET: refused without echoing the secret', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: 'hunter2-hunter2' }), (error: Error) =>
      error.message.includes('JWT_SECRET') && !error.message.includes('hunter2'))
    assert.equal(loadConfig({ JWT_SECRET: SECRET }).jwtSecret, SECRET, '32 characters are enough')
  })
})

describe('timeouts must decrease: HTTP > GraphQL > DB', () => {
  test('a valid order is accepted', () => {
    const config = loadConfig({ HTTP_TIMEOUT_MS: '3000', GRAPHQL_TIMEOUT_MS: '2000', DB_TIMEOUT_MS: '1000' })
    assert.deepEqual([config.httpTimeoutMs, config.graphqlTimeoutMs, config.dbTimeoutMs], [3000, 2000, 1000])
  })
  for (const [http, graphql, db] of [['2000', '2000', '1000'], ['3000', '1000', '2000'], ['1000', '2000', '3000'], ['3000', '2000', '2000']]) {
    test(`HTTP ${http}, GraphQL ${graphql}, DB ${db}: refused, naming all three`, () => {
      assert.throws(() => loadConfig({ HTTP_TIMEOUT_MS: http, GRAPHQL_TIMEOUT_MS: graphql, DB_TIMEOUT_MS: db }), (error: Error) =>
        error instanceof ConfigError && ['HTTP_TIMEOUT_MS', 'GRAPHQL_TIMEOUT_MS', 'DB_TIMEOUT_MS'].every((name) => error.message.includes(name)))
    })
  }
})

describe('DEPLOYMENT_ID', () => {
  test('optional with REDIS_URL (the app derives it from the database); taken as given when set', () => {
    assert.equal(loadConfig({ REDIS_URL: 'redis://h:6379' }).deploymentId, undefined)
    assert.equal(loadConfig({ REDIS_URL: 'redis://h:6379', DEPLOYMENT_ID: 'a' }).deploymentId, 'a')
    assert.equal(loadConfig({ DEPLOYMENT_ID: 'x'.repeat(64) }).deploymentId, 'x'.repeat(64), '64 characters are enough')
  })
})

describe('PRODUCTION=true', () => {
  test('requires JWT_SECRET', () => {
    assertRefused({ PRODUCTION: 'true' }, 'JWT_SECRET')
    assert.equal(loadConfig({ PRODUCTION: 'true', JWT_SECRET: SECRET }).production, true)
  })

  test('refuses EXPOSE_SQL_COUNT', () => {
    assertRefused({ PRODUCTION: 'true', JWT_SECRET: SECRET, EXPOSE_SQL_COUNT: 'true' }, 'EXPOSE_SQL_COUNT')
  })

  test('no demo data: off by default, SEED_DEMO_DATA=true refused naming both variables; outside production on by default', () => {
    assert.equal(loadConfig({ PRODUCTION: 'true', JWT_SECRET: SECRET }).seedDemoData, false)
    assert.equal(loadConfig({ PRODUCTION: 'true', JWT_SECRET: SECRET, SEED_DEMO_DATA: 'false' }).seedDemoData, false)
    assert.throws(() => loadConfig({ PRODUCTION: 'true', JWT_SECRET: SECRET, SEED_DEMO_DATA: 'true' }), (error: Error) =>
      error instanceof ConfigError && error.message.includes('SEED_DEMO_DATA') && error.message.includes('PRODUCTION'))
    assert.equal(loadConfig({}).seedDemoData, true)
    assert.equal(loadConfig({ SEED_DEMO_DATA: 'false' }).seedDemoData, false)
    assert.equal(configWith({ production: true, jwtSecret: SECRET }).seedDemoData, false, 'typed overrides resolve the default too')
  })
})

describe('rate-limit knobs', () => {
  test('defaults: sign-in limits on (5 per account, 30 per client, 15 min), the request limit off', () => {
    const config = loadConfig({})
    assert.deepEqual([config.loginMaxFailuresPerAccount, config.loginMaxFailuresPerClient, config.loginThrottleWindowMs], [5, 30, 900_000])
    assert.deepEqual([config.rateLimitMaxRequests, config.rateLimitWindowMs, config.trustProxy, config.maxJsonDepth], [0, 60_000, 0, 32])
  })
  for (const [name, bad] of [['LOGIN_MAX_FAILURES_PER_ACCOUNT', '-1'], ['LOGIN_THROTTLE_WINDOW_MS', '999'], ['RATE_LIMIT_WINDOW_MS', '0'], ['MAX_JSON_DEPTH', '0'], ['TRUST_PROXY', 'yes']]) {
    test(`${name}=${bad} refused`, () => assertRefused({ [name]: bad }, name, bad))
  }
})
