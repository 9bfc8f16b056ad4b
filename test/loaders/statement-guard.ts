/**
 * The N+1 guard's measuring side: runs one query shape with 1, 10 and 100 parents, reads
 * `extensions.sqlStatements` (EXPOSE_SQL_COUNT=true) and checks the count is flat and within
 * depth + 1. Also derives "every field" queries from the schema itself, so a field added later
 * is measured without anyone remembering to add it to the table.
 */
import assert from 'node:assert/strict'
import {
  buildSchema, getNamedType, isLeafType, isListType, isNonNullType, isObjectType, Kind, parse,
  type GraphQLField, type GraphQLObjectType, type SelectionSetNode
} from 'graphql'
import { typeDefs } from '../../src/graphql/schema.ts'
import type { TestApp } from '../helpers/app.ts'

export const PARENT_COUNTS = [1, 10, 100] as const

export interface QueryShape {
  name: string
  /** Takes `$n`, the number of parents. */
  query: string
  /** The parent list in `data`: the guard checks it really holds n parents. */
  parents: (data: any) => unknown[]
  /** Children of the parents, flattened: the guard checks the nested levels are not empty. */
  children: (data: any) => unknown[]
}

export type CountsByParents = Record<number, number>

/** Statement counts of one shape for each parent count (and sanity checks on the data). */
export async function measureShape (gql: TestApp['gql'], shape: QueryShape, token: string): Promise<CountsByParents> {
  const counts: CountsByParents = {}
  // What any request with this token runs whatever its shape (the viewer's users row, read
  // per request while the row cache is off) is not the shape's: measured once, taken off.
  const perRequest = sqlStatementsOf(await gql('{ __typename }', { token }))
  for (const n of PARENT_COUNTS) {
    const result = await gql(shape.query, { token, variables: { n } })
    assert.equal(result.status, 200, `${shape.name} with ${n}: ${JSON.stringify(result.body.errors)}`)
    assert.equal(result.body.errors, undefined, `${shape.name} with ${n}: ${JSON.stringify(result.body.errors)}`)
    // Without real parents and children a flat count would prove nothing.
    assert.equal(shape.parents(result.body.data).length, n, `${shape.name}: expected ${n} parents`)
    assert.ok(shape.children(result.body.data).length >= n, `${shape.name}: expected children under the ${n} parents`)
    counts[n] = sqlStatementsOf(result) - perRequest
  }
  return counts
}

/** The guard itself: the count must not depend on the parents, and stays within depth + 1. */
export function assertNoNPlusOne (shape: Pick<QueryShape, 'name' | 'query'>, counts: CountsByParents): void {
  const [first, ...rest] = PARENT_COUNTS.map((n) => counts[n])
  for (const count of rest) {
    assert.equal(count, first, `${shape.name}: statements grow with parents (N+1): ${JSON.stringify(counts)}`)
  }
  const depth = queryDepth(shape.query)
  assert.ok(first <= depth + 1, `${shape.name}: ${first} statements > depth ${depth} + 1`)
}

export function sqlStatementsOf (result: Awaited<ReturnType<TestApp['gql']>>): number {
  const count = result.body.extensions?.sqlStatements
  assert.equal(typeof count, 'number', `no extensions.sqlStatements in ${JSON.stringify(result.body).slice(0, 200)}`)
  return count as number
}

/** Fields on the longest path, the root field and the leaf included: `{ a { b } }` is 2. */
export function queryDepth (query: string): number {
  const operation = parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)
  assert.ok(operation && 'selectionSet' in operation)
  return depthOf(operation.selectionSet)
}

/**
 * For every root field that returns a list and takes `first` (users, notes, tags, and any
 * added later), a query that selects every field of every type down to `levels` object
 * levels. Nested lists get `first: 2`; a field with another required argument is skipped.
 */
export function everyFieldShapes (levels = 4): QueryShape[] {
  const schema = buildSchema(typeDefs)
  const shapes: QueryShape[] = []
  for (const field of Object.values(schema.getQueryType()!.getFields())) {
    const type = isNonNullType(field.type) ? field.type.ofType : field.type
    const named = getNamedType(field.type)
    if (!isListType(type) || !isObjectType(named) || !field.args.some((arg) => arg.name === 'first')) continue
    shapes.push({
      name: `${field.name} { every field, ${levels} levels }`,
      query: `query ($n: Int) { root: ${field.name}(first: $n) { ${selectEverything(named, levels - 1)} } }`,
      parents: (data) => data.root,
      children: (data) => data.root.flatMap((parent: Record<string, unknown>) =>
        Object.values(parent).filter((value) => typeof value === 'object' && value !== null).flat())
    })
  }
  return shapes
}

// Private:

function depthOf (selectionSet: SelectionSetNode | undefined): number {
  if (!selectionSet) return 0
  let deepest = 0
  for (const selection of selectionSet.selections) {
    // The guard's queries use no named fragments; an inline fragment adds no level.
    if (selection.kind === Kind.FRAGMENT_SPREAD) continue
    const below = selection.kind === Kind.FIELD ? 1 + depthOf(selection.selectionSet) : depthOf(selection.selectionSet)
    deepest = Math.max(deepest, below)
  }
  return deepest
}

function selectEverything (type: GraphQLObjectType, levelsLeft: number): string {
  const parts: string[] = []
  for (const field of Object.values(type.getFields())) {
    const args = argumentsFor(field)
    if (args === undefined) continue
    const named = getNamedType(field.type)
    if (isLeafType(named)) parts.push(field.name)
    else if (isObjectType(named) && levelsLeft > 0) parts.push(`${field.name}${args} { ${selectEverything(named, levelsLeft - 1)} }`)
  }
  return parts.join(' ')
}

function argumentsFor (field: GraphQLField<unknown, unknown>): string | undefined {
  const given: string[] = []
  for (const arg of field.args) {
    if (arg.name === 'first') given.push('first: 2')
    else if (isNonNullType(arg.type) && arg.defaultValue === undefined) return undefined
  }
  return given.length === 0 ? '' : `(${given.join(', ')})`
}
