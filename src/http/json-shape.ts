/**
 * Checks of client JSON that must not recurse (a client chooses the depth): nesting depth
 * against MAX_JSON_DEPTH, and the prototype-poisoning keys Fastify's own JSON parser refuses
 * (secure-json-parse), so that GET `variables` are judged like a POST body.
 */

/** The first problem with `value`, or undefined. Iterative: one pass, an explicit stack. */
export function jsonShapeProblem (value: unknown, maxDepth: number): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number]
    if (node === null || typeof node !== 'object') continue
    if (depth > maxDepth) return `is nested deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`
    if (Array.isArray(node)) {
      for (const item of node) stack.push([item, depth + 1])
      continue
    }
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      if (key === '__proto__') return 'contains a forbidden "__proto__" key'
      const child = record[key]
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return 'contains a forbidden "constructor.prototype" key'
      }
      stack.push([child, depth + 1])
    }
  }
  return undefined
}
