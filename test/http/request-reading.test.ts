/**
 * The request reading a cache hit goes through, below the front door: the JSON-shape walk (its
 * stacks are made only for nested bodies) and the Accept negotiation (its answers are memoized
 * for the first distinct headers). Each must answer exactly as the plain reading would.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jsonShapeProblem } from '../../src/http/json-shape.ts'
import { GRAPHQL_RESPONSE_JSON, JSON_MEDIA_TYPE, negotiateMediaType } from '../../src/http/media-type.ts'

test('JSON shape: flat and nested bodies, depth at the bound and over it, forbidden keys at any depth', () => {
  assert.equal(jsonShapeProblem({ query: '{ a }', operationName: null }, 1), undefined, 'a flat body is depth 1')
  assert.equal(jsonShapeProblem('text', 1), undefined)
  assert.equal(jsonShapeProblem({ query: '{ a }', variables: {} }, 1), 'is nested deeper than 1 levels (MAX_JSON_DEPTH)')
  assert.equal(jsonShapeProblem({ variables: { a: [{ b: 1 }] } }, 4), undefined)
  assert.equal(jsonShapeProblem({ variables: { a: [{ b: {} }] } }, 4), 'is nested deeper than 4 levels (MAX_JSON_DEPTH)')
  assert.equal(jsonShapeProblem([[1], [[2]]], 3), undefined)
  assert.equal(jsonShapeProblem([[1], [[[2]]]], 3), 'is nested deeper than 3 levels (MAX_JSON_DEPTH)')
  assert.equal(jsonShapeProblem(JSON.parse('{"__proto__":{"x":1}}'), 10), 'contains a forbidden "__proto__" key')
  assert.equal(jsonShapeProblem(JSON.parse('{"v":[{"a":{"__proto__":1}}]}'), 10), 'contains a forbidden "__proto__" key')
  assert.equal(jsonShapeProblem({ v: { constructor: { prototype: {} } } }, 10), 'contains a forbidden "constructor.prototype" key')
  assert.equal(jsonShapeProblem({ v: { constructor: { name: 'x' } } }, 10), undefined)
})

test('Accept: the same answer the first time, the second (memoized) and past the memo\'s bound', () => {
  const cases: Array<[string, string | undefined]> = [
    ['application/json', JSON_MEDIA_TYPE],
    ['application/graphql-response+json', GRAPHQL_RESPONSE_JSON],
    ['application/graphql-response+json, application/json;q=0.9', GRAPHQL_RESPONSE_JSON],
    ['application/json, application/graphql-response+json;q=0.5', JSON_MEDIA_TYPE],
    ['*/*', JSON_MEDIA_TYPE],
    ['text/html', undefined],
    ['application/json;q=0', undefined]
  ]
  for (let round = 0; round < 2; round++) {
    for (const [accept, expected] of cases) assert.equal(negotiateMediaType(accept), expected, `${accept}, round ${round}`)
  }
  // Fill the memo with junk: later values are still read right, every time.
  for (let i = 0; i < 200; i++) assert.equal(negotiateMediaType(`text/x-${i}, application/json;q=0.${i % 9 + 1}`), JSON_MEDIA_TYPE)
  for (let i = 0; i < 2; i++) assert.equal(negotiateMediaType('image/png, application/graphql-response+json'), GRAPHQL_RESPONSE_JSON)
  for (const [accept, expected] of cases) assert.equal(negotiateMediaType(accept), expected, accept)
  assert.equal(negotiateMediaType(undefined), JSON_MEDIA_TYPE)
  assert.equal(negotiateMediaType(''), JSON_MEDIA_TYPE)
  const long = `${'x'.repeat(300)}, application/json`
  assert.equal(negotiateMediaType(long), JSON_MEDIA_TYPE)
  assert.equal(negotiateMediaType(long), JSON_MEDIA_TYPE)
})
