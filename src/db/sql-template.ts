/**
 * SQL as tagged templates, compiled to node-postgres's `{ text, values }`: every interpolated
 * value becomes a `$n` parameter, and an interpolated fragment is spliced in with its own
 * parameters renumbered. `sql.unsafe(text)` splices trusted text (column lists, migrations).
 *
 * Our own code: node-postgres takes text and an array of values; repositories compose
 * statements from reusable parts (the visibility rule, column lists), which needs fragments.
 * ~50 lines did not justify another dependency.
 */

/** A piece of SQL with its values; composes into other fragments. */
export class SqlFragment {
  readonly strings: readonly string[]
  readonly values: readonly unknown[]
  constructor (strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings
    this.values = values
  }
}

export interface SqlBuilder {
  (strings: TemplateStringsArray, ...values: unknown[]): SqlFragment
  /** Trusted SQL text, spliced as it is (never client input). */
  unsafe (text: string): SqlFragment
}

export interface CompiledStatement {
  text: string
  values: unknown[]
  /** A prepared statement's name (statement-names.ts); unnamed when absent. */
  name?: string
}

export const sql: SqlBuilder = Object.assign(
  (strings: TemplateStringsArray, ...values: unknown[]) => new SqlFragment(strings, values),
  { unsafe: (text: string) => new SqlFragment([text], []) }
)

/** `{ text, values }` for node-postgres: `$1`, `$2`, … in order of appearance. */
export function compile (fragment: SqlFragment): CompiledStatement {
  const values: unknown[] = []
  const text = append(fragment, values)
  return { text, values }
}

// Private:

function append (fragment: SqlFragment, values: unknown[]): string {
  let text = fragment.strings[0]
  for (let i = 0; i < fragment.values.length; i++) {
    const value = fragment.values[i]
    if (value instanceof SqlFragment) text += append(value, values)
    else {
      values.push(value)
      text += `$${values.length}`
    }
    text += fragment.strings[i + 1]
  }
  return text
}
