/**
 * SQL outside any request — start-up, seeding, scripts, tests: tagged templates run straight on
 * a pool or one connection, with no budget and no counting (the gateway is for requests).
 */
import type pg from 'pg'
import { compile, sql } from './sql-template.ts'

/** Runs a tagged template on `runner`: `await sqlOn(pool)\`select 1\``. */
export type TrustedSql = <T = Record<string, any>>(strings: TemplateStringsArray, ...values: unknown[]) => Promise<T[]>

export function sqlOn (runner: pg.Pool | pg.PoolClient): TrustedSql {
  return (strings, ...values) => runner.query(compile(sql(strings, ...values))).then((result) => result.rows)
}

/**
 * Runs `work` in one transaction on a connection of `pool`: COMMIT, or ROLLBACK on any error;
 * a connection that failed part-way is destroyed rather than handed back.
 */
export async function withTransaction<T> (pool: pg.Pool, work: (tx: TrustedSql) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let failure: Error | undefined
  try {
    await client.query('begin')
    const result = await work(sqlOn(client))
    await client.query('commit')
    return result
  } catch (error) {
    failure = error as Error
    await client.query('rollback').catch(() => {})
    throw error
  } finally {
    client.release(failure)
  }
}
