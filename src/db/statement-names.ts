/**
 * Names for prepared statements: the same SQL text gets the same name for the life of the
 * process, so node-postgres parses it once per connection and PostgreSQL keeps its plan.
 *
 * Why: in the write mix PostgreSQL shares one core with Jotter, and parsing and planning every
 * statement again (node-postgres's unnamed statements) is a visible share of its CPU
 * (docs/performance.md, "Named prepared statements"; `npm run bench:prepared`). Names are
 * counters, not hashes: no collision, and node-postgres refuses one name for two texts on a
 * connection.
 *
 * Bounded: texts come from the repositories, a fixed set, but a statement whose text varied
 * with its input would otherwise grow this map (and every connection's prepared statements)
 * without end; past `maxNames` texts, new ones run unnamed.
 */

export type StatementNamer = (text: string) => string | undefined

export const DEFAULT_MAX_STATEMENT_NAMES = 500

export function createStatementNamer (maxNames = DEFAULT_MAX_STATEMENT_NAMES): StatementNamer {
  const names = new Map<string, string>()
  return (text) => {
    const known = names.get(text)
    if (known !== undefined || names.size >= maxNames) return known
    const name = `jotter_${names.size + 1}`
    names.set(text, name)
    return name
  }
}

/** Unnamed statements only: behind PgBouncer in transaction mode (before 1.21), a prepared statement lives on a server connection the next transaction may not get. */
export const unnamedStatements: StatementNamer = () => undefined
