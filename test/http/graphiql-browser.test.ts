/**
 * GraphiQL in a real browser with no internet: Debian's headless Chromium loads /graphiql from
 * the app listening on 127.0.0.1, a query is typed in, the headers editor carries the token, the
 * Run button is pressed and the private note appears in the result pane. Every request the page
 * makes must go to the app itself (no CDN), and the page must log no error.
 * Without /usr/bin/chromium (Debian's `chromium` package) the test skips, saying so.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startTestApp, type TestApp } from '../helpers/app.ts'

const CHROMIUM = '/usr/bin/chromium'
const NO_CHROMIUM = `${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium) to run the GraphiQL browser test`
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]
const UI_TIMEOUT_MS = 30_000

describe('GraphiQL in headless Chromium', { skip: existsSync(CHROMIUM) ? false : NO_CHROMIUM }, () => {
  let t: TestApp
  let origin: string
  let userDataDir: string
  let browser: BrowserContext
  const requested: string[] = []
  const pageErrors: string[] = []

  before(async () => {
    t = await startTestApp()
    origin = await t.app.listen({ host: '127.0.0.1', port: 0 })
    userDataDir = mkdtempSync(join(tmpdir(), 'jotter-chromium-'))
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: UI_TIMEOUT_MS
    })
    browser.on('request', (request) => requested.push(request.url()))
  })

  after(async () => {
    await browser?.close()
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
    await t?.close()
  })

  test('loads with no request leaving the server, runs a query with a header, shows the result', async () => {
    const ada = await t.signUp('Ada Browser')
    const created = await t.gql('mutation { createNote(input: { title: "Chromium was here" }) { id } }', { token: ada.token })
    assert.ok(created.body.data?.createNote.id, JSON.stringify(created.body))

    const page = browser.pages()[0] ?? await browser.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()) })

    const response = await page.goto(`${origin}/graphiql`, { waitUntil: 'load', timeout: UI_TIMEOUT_MS })
    assert.equal(response?.status(), 200)
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: UI_TIMEOUT_MS })

    // The note is private: it shows only if the header typed into the headers editor is sent.
    await setEditor(page, '.graphiql-query-editor', '{ me { name notes { title } } }')
    await page.getByRole('button', { name: 'Headers' }).click()
    await setEditor(page, '.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${ada.token}` }))
    await page.locator('.graphiql-execute-button').click()

    const result = page.locator('.result-window')
    await result.getByText('Chromium was here').waitFor({ timeout: UI_TIMEOUT_MS })
    assert.match(await result.innerText(), /"name": "Ada Browser"/)

    assert.ok(requested.length >= 6, `the page, its stylesheet, 4 scripts and the query: ${requested.join(', ')}`)
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'))
    assert.deepEqual(elsewhere, [], 'every request goes to the app itself')
    assert.ok(requested.includes(`${origin}/graphql`), 'the query went to /graphql')
    assert.deepEqual(pageErrors, [], 'no error in the page')
  })
})

// Private:

/** Replaces the text of the CodeMirror editor inside `container`, as a paste would. */
async function setEditor (page: Page, container: string, text: string): Promise<void> {
  const editor = page.locator(`${container} .CodeMirror`).filter({ visible: true }).first()
  await editor.waitFor({ timeout: UI_TIMEOUT_MS })
  await editor.evaluate((element, value) => {
    (element as unknown as { CodeMirror: { setValue (text: string): void } }).CodeMirror.setValue(value)
  }, text)
}
