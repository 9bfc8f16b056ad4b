/**
 * The estimated number of rows an operation touches, reading the actual `first` values,
 * variables included (graphql-armor's cost limit only reads literals, so a client could pass
 * `first: $n` and escape it). Our own code.
 *
 * Every field that returns an object costs the rows it fetches times how many parents ask for
 * it: a list field multiplies by its `first` (argument, variable, or schema default) or by
 * LIST_SIZE_WITHOUT_FIRST for lists that take no `first` (a note's tags). Scalars are free.
 */
import {
  getNamedType, getNullableType, isListType, isObjectType, isInputType, isInterfaceType, Kind, typeFromAST, valueFromAST,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLObjectType,
  type GraphQLSchema, type SelectionSetNode
} from 'graphql'
import { limits } from '../../graphql/input-rules.ts'

/** Rows assumed for a list field without `first` (tags of a note are few). */
export const LIST_SIZE_WITHOUT_FIRST = 10

/** The cost of the document's most expensive operation (only one runs; all are bounded). */
export function operationCost (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined): number {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
  }
  let highest = 0
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue
    const root = schema.getRootType(definition.operation)
    if (!root) continue
    const defaults: Record<string, unknown> = {}
    for (const variable of definition.variableDefinitions ?? []) {
      const type = typeFromAST(schema, variable.type as never)
      if (variable.defaultValue && isInputType(type)) defaults[variable.variable.name.value] = valueFromAST(variable.defaultValue, type)
    }
    const walk = createWalker(fragments, { ...defaults, ...variables })
    highest = Math.max(highest, walk(definition.selectionSet, root, 1, new Set()))
  }
  return highest
}

// Private:

type Walk = (selectionSet: SelectionSetNode, parentType: GraphQLObjectType, parents: number, inFragments: Set<string>) => number

function createWalker (fragments: Map<string, FragmentDefinitionNode>, variables: Record<string, unknown>): Walk {
  const walk: Walk = (selectionSet, parentType, parents, inFragments) => {
    let cost = 0
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = parentType.getFields()[selection.name.value]
        const type = field ? getNamedType(field.type) : undefined
        if (!field || !selection.selectionSet || !(isObjectType(type) || isInterfaceType(type))) continue
        const rows = parents * (isListType(getNullableType(field.type)) ? listSize(field, selection.arguments ?? [], variables) : 1)
        cost += rows + walk(selection.selectionSet, type as GraphQLObjectType, rows, inFragments)
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += walk(selection.selectionSet, parentType, parents, inFragments)
      } else {
        // Validation has refused fragment cycles already; the guard keeps this safe on its own.
        const name = selection.name.value
        const fragment = fragments.get(name)
        if (!fragment || inFragments.has(name)) continue
        cost += walk(fragment.selectionSet, parentType, parents, new Set(inFragments).add(name))
      }
    }
    return cost
  }
  return walk
}

function listSize (field: GraphQLField<unknown, unknown>, args: readonly import('graphql').ArgumentNode[], variables: Record<string, unknown>): number {
  const definition = field.args.find((arg) => arg.name === 'first')
  if (!definition) return LIST_SIZE_WITHOUT_FIRST
  const node = args.find((arg) => arg.name.value === 'first')
  let value: unknown = definition.defaultValue
  if (node?.value.kind === Kind.VARIABLE) value = variables[node.value.name.value] ?? definition.defaultValue
  else if (node) value = valueFromAST(node.value, definition.type, variables)
  const size = Number(value)
  // Out of 0..firstMax the field's resolver refuses it (BAD_USER_INPUT naming `first`) before
  // fetching anything, so it costs no rows: the client hears about `first`, not about the cost.
  if (Number.isFinite(size) && (size < 0 || size > limits.firstMax)) return 0
  return Number.isFinite(size) && size > 0 ? size : LIST_SIZE_WITHOUT_FIRST
}
