/**
 * signUp and login: emails unique case-insensitively; login answers a wrong password and an
 * unknown email with the same body, after the same argon2 work.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createPasswordChecker, hashPassword } from '../../src/auth/passwords.ts'
import { startTestApp, type TestApp } from '../helpers/app.ts'

let t: TestApp
const LOGIN = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id email } } }'
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id name email } } }'

before(async () => { t = await startTestApp() })
after(() => t.close())

describe('signUp', () => {
  test('answers a working token and the new user with their own email', async () => {
    const result = await t.gql(SIGN_UP, { variables: { input: { name: 'Carol', email: 'Carol@Example.test', password: 'long-enough' } } })
    assert.equal(result.status, 200)
    const { token, user } = result.body.data.signUp
    assert.deepEqual({ name: user.name, email: user.email }, { name: 'Carol', email: 'Carol@Example.test' })
    const me = await t.gql('{ me { id email } }', { token })
    assert.deepEqual(me.body.data.me, { id: user.id, email: 'Carol@Example.test' })
  })

  test('a taken email in another case → BAD_USER_INPUT naming email; the first account is untouched', async () => {
    await t.signUp('Dave', { email: 'dave@example.test', password: 'dave-password' })
    const result = await t.gql(SIGN_UP, { variables: { input: { name: 'Impostor', email: 'DAVE@Example.TEST', password: 'other-password' } } })
    assert.equal(result.status, 200)
    assert.equal(result.body.data, null)
    assert.equal(result.body.errors?.[0].extensions?.code, 'BAD_USER_INPUT')
    assert.equal(result.body.errors?.[0].extensions?.field, 'email')
    const [{ count }] = await t.database.db.sql`select count(*)::int as count from users where lower(email) = 'dave@example.test'`
    assert.equal(count, 1)
    const login = await t.gql(LOGIN, { variables: { email: 'dave@example.test', password: 'dave-password' } })
    assert.ok(login.body.data?.login, 'the original password still works')
  })
})

describe('login', () => {
  let erin: { id: string, email: string }
  before(async () => { erin = await t.signUp('Erin', { email: 'erin@example.test', password: 'erin-password' }) })

  test('the right password answers a working token; the email matches in any case', async () => {
    for (const email of ['erin@example.test', 'ERIN@example.TEST', '  erin@example.test ']) {
      const result = await t.gql(LOGIN, { variables: { email, password: 'erin-password' } })
      assert.equal(result.status, 200)
      assert.deepEqual(result.body.data.login.user, { id: erin.id, email: 'erin@example.test' })
      const me = await t.gql('{ me { id } }', { token: result.body.data.login.token })
      assert.deepEqual(me.body.data.me, { id: erin.id })
    }
  })

  test('a wrong password and an unknown email get the very same answer: UNAUTHENTICATED', async () => {
    const wrongPassword = await t.gql(LOGIN, { variables: { email: 'erin@example.test', password: 'not-erins-password' } })
    const unknownEmail = await t.gql(LOGIN, { variables: { email: 'nobody@example.test', password: 'not-erins-password' } })
    assert.equal(wrongPassword.status, 200)
    assert.equal(wrongPassword.body.errors?.[0].extensions?.code, 'UNAUTHENTICATED')
    assert.equal(wrongPassword.body.data, null)
    assert.deepEqual(unknownEmail.body, wrongPassword.body)
    assert.equal(unknownEmail.status, wrongPassword.status)
  })

  test('the passwords are stored as argon2id hashes with at least 19 MiB and t=2', async () => {
    const [{ hash }] = await t.database.db.sql`select password_hash as hash from users where email = 'erin@example.test'`
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash)
    assert.ok(match, `not an argon2id hash: ${String(hash).slice(0, 30)}`)
    assert.ok(Number(match[1]) >= 19_456 && Number(match[2]) >= 2, hash.slice(0, 40))
  })
})

describe('login timing', () => {
  test('an unknown email costs an argon2 verify like a wrong password (median ratio within 0.3..3)', async () => {
    const checker = await createPasswordChecker()
    const stored = await hashPassword('the-real-password')
    const timeOf = async (work: () => Promise<unknown>): Promise<number> => {
      const started = performance.now()
      await work()
      return performance.now() - started
    }
    const median = (runs: number[]): number => runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]
    await checker.verifyLogin(stored, 'warm-up')
    // Alternated, so that a slow moment of the machine falls on both kinds alike.
    const wrongRuns: number[] = []
    const unknownRuns: number[] = []
    const emptyRuns: number[] = []
    for (let i = 0; i < 7; i++) {
      wrongRuns.push(await timeOf(() => checker.verifyLogin(stored, 'a-wrong-password')))
      unknownRuns.push(await timeOf(() => checker.verifyLogin(undefined, 'a-wrong-password')))
      emptyRuns.push(await timeOf(async () => {}))
    }
    const [wrongPassword, unknownEmail, noWork] = [median(wrongRuns), median(unknownRuns), median(emptyRuns)]
    assert.equal(await checker.verifyLogin(undefined, 'the-real-password'), false, 'no hash never matches')
    const ratio = unknownEmail / wrongPassword
    assert.ok(ratio > 0.3 && ratio < 3, `unknown email ${unknownEmail.toFixed(1)} ms vs wrong password ${wrongPassword.toFixed(1)} ms`)
    // The bound means something only if a verify is real work next to doing nothing.
    assert.ok(wrongPassword > 20 * noWork, `a verify took ${wrongPassword.toFixed(2)} ms, an empty step ${noWork.toFixed(3)} ms`)
  })
})
