/**
 * graphql-http's server audits (the GraphQL-over-HTTP spec's conformance list) against a real
 * listening app: every MUST and every SHOULD passes. Two MAYs do not, on purpose: `variables`
 * of 0 or false are turned into null by Fastify's body schema (coercion) and then run.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { serverAudits } from 'graphql-http'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
let url: string
before(async () => {
  t = await startTestApp()
  url = `${await t.app.listen({ port: 0, host: '127.0.0.1' })}/graphql`
})
after(() => t.close())

describe('graphql-http serverAudits', () => {
  const audits = serverAudits({ url: () => url, fetchFn: fetch })
  test('the list holds the MUSTs and SHOULDs it is known for', () => {
    assert.ok(audits.filter((audit) => audit.name.startsWith('MUST')).length >= 13)
    assert.ok(audits.filter((audit) => audit.name.startsWith('SHOULD')).length >= 23)
  })
  for (const audit of audits) {
    if (audit.name.startsWith('MAY')) continue
    test(audit.name, async () => {
      const result = await audit.fn()
      assert.equal(result.status, 'ok', result.status === 'ok' ? '' : `${result.reason}: ${await result.response.text()}`)
    })
  }
})
