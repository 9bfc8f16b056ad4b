/**
 * The Node versions Jotter supports: `engines` in package.json, the README says the same, the
 * running Node is one of them, and every installed package accepts the oldest release of each
 * supported line, so that `npm ci` prints no EBADENGINE warning on any of them.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import semver from 'semver'

const engines: string = JSON.parse(readFileSync('package.json', 'utf8')).engines.node
/** The oldest release of each supported line: '^20.19.0 || ^22.13.0 || >=24' → 20.19.0, 22.13.0, 24.0.0. */
const floors = engines.split('||').map((clause) => semver.minVersion(clause)?.version)

test('engines names the lines 20, 22 and 24, and the README says the same', () => {
  assert.deepEqual(floors.map((floor) => floor && semver.major(floor)), [20, 22, 24], engines)
  assert.ok(readFileSync('README.md', 'utf8').includes(`\`${engines}\``), `README.md names the supported range ${engines}`)
})

test('the Node running the tests is a supported one', () => {
  assert.ok(semver.satisfies(process.version, engines), `${process.version} is outside ${engines}`)
})

test('every installed package accepts the oldest release of each supported line', () => {
  const refusals: string[] = []
  for (const { name, version, range } of installedEngines('node_modules')) {
    for (const floor of floors) {
      if (floor && !semver.satisfies(floor, range)) refusals.push(`${name}@${version} wants node ${range}, refusing ${floor}`)
    }
  }
  assert.deepEqual(refusals, [], 'raise the floor in engines (and the README), or override the package to a version that accepts it')
})

test('the check sees the packages and their ranges', () => {
  const found = installedEngines('node_modules')
  assert.ok(found.length > 50, `only ${found.length} packages with engines.node found`)
  assert.ok(found.some(({ name }) => name === 'undici'), 'a top-level package (undici) is seen')
  // cookie is installed only under light-my-request/node_modules (an override keeps it at 1.x).
  assert.ok(found.some(({ name }) => name === 'cookie'), 'a nested package (cookie) is seen')
})

// Private:

interface Engines { name: string, version: string, range: string }

/** Every package under `dir` (scoped and nested node_modules too) that declares engines.node. */
function installedEngines (dir: string): Engines[] {
  const found: Engines[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.name.startsWith('@')) {
      found.push(...installedEngines(path))
      continue
    }
    const manifest = join(path, 'package.json')
    if (existsSync(manifest)) {
      const { name, version, engines } = JSON.parse(readFileSync(manifest, 'utf8'))
      if (typeof engines?.node === 'string') found.push({ name, version, range: engines.node })
    }
    if (existsSync(join(path, 'node_modules'))) found.push(...installedEngines(join(path, 'node_modules')))
  }
  return found
}
