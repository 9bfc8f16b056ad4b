/**
 * Checks of client JSON that must not recurse (a client chooses the depth): nesting depth
 * against MAX_JSON_DEPTH, and the prototype-poisoning keys Fastify's own JSON parser refuses
 * (secure-json-parse), so that GET `variables` are judged like a POST body.
 */

/**
 * The first problem with `value`, or undefined. Iterative: one pass, an explicit stack of
 * objects and a parallel one of depths; for-in rather than Object.keys and no [node, depth]
 * pair per value: 117 bytes of garbage for a usual request body instead of 498 (it runs on
 * every request, cache hits included). The stacks are made at the first nested object: a flat
 * body (`{ query, operationName }`) makes none.
 */
export function jsonShapeProblem (value: unknown, maxDepth: number): string | undefined {
  if (value === null || typeof value !== 'object') return undefined
  let nodes: object[] | undefined
  let depths: number[] | undefined
  let node = value as Record<string, unknown>
  let depth = 1
  while (true) {
    if (depth > maxDepth) return `is nested deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`
    if (Array.isArray(node)) {
      for (const item of node) {
        if (item !== null && typeof item === 'object') { (nodes ??= []).push(item); (depths ??= []).push(depth + 1) }
      }
    } else {
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue
        if (key === '__proto__') return 'contains a forbidden "__proto__" key'
        const child = node[key]
        if (child === null || typeof child !== 'object') continue
        if (key === 'constructor' && Object.hasOwn(child, 'prototype')) return 'contains a forbidden "constructor.prototype" key'
        ;(nodes ??= []).push(child)
        ;(depths ??= []).push(depth + 1)
      }
    }
    if (nodes === undefined || nodes.length === 0) return undefined
    node = nodes.pop() as Record<string, unknown>
    depth = depths!.pop() as number
  }
}
