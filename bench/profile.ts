/**
 * `npm run profile [-- --duration 30 --rate 500 --users 200 --cache true --mix read|write|FILE --out-dir bench/results/profile]`
 *
 * Where does the server's CPU go under the default read mix (or the write mix, or a mix file)? Starts a seeded Jotter (one worker) with
 * `node --cpu-prof`, runs the open-model load for --duration seconds, stops the server with
 * SIGTERM (the profile is written when the process exits, so the graceful close in src/server.ts
 * must finish), and turns the .cpuprofile into a flame graph HTML (bench/flamegraph.ts). Prints
 * both paths and the 15 functions with the most self time.
 *
 * The profile covers the server's whole life: start-up and the users' logins come before the
 * load and are in it too (small next to a run of 30 s or more). The .cpuprofile also opens in
 * Chrome DevTools (Performance tab) or speedscope for a closer look.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startBenchServer } from './bench-server.ts'
import { renderFlameGraphHtml, topSelfTime, type CpuProfile } from './flamegraph.ts'
import { collectFixtures, createRequestMix, formatResultText, ownNotesPerUserFor, resolveMix, runOpenModelLoad } from './load/index.ts'
import { exitWith, positive, UsageError } from './cli-flags.ts'

async function main (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '30' },
      rate: { type: 'string', default: '500' },
      users: { type: 'string', default: '200' },
      'notes-per-user': { type: 'string', default: '20' },
      cache: { type: 'string', default: 'true' },
      mix: { type: 'string' },
      'database-url': { type: 'string', default: process.env.DATABASE_URL },
      'out-dir': { type: 'string', default: 'bench/results/profile' }
    }
  })
  const duration = positive('--duration', values.duration!)
  const rate = positive('--rate', values.rate!)
  const users = positive('--users', values.users!)
  if (!['true', 'false'].includes(values.cache!)) throw new UsageError(`--cache must be true or false: ${JSON.stringify(values.cache)}`)
  const outDir = resolve(values['out-dir']!)
  await mkdir(outDir, { recursive: true })
  const before = new Set(await readdir(outDir))

  const server = await startBenchServer({
    users,
    notesPerUser: positive('--notes-per-user', values['notes-per-user']!),
    databaseUrl: values['database-url'] || undefined,
    workers: 1,
    env: { CACHE_ENABLED: values.cache! },
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`]
  })
  let exit: Awaited<ReturnType<typeof server.stop>>
  try {
    const entries = await resolveMix(values.mix)
    const mix = createRequestMix({ entries, fixtures: await collectFixtures({ url: server.url, users, ownNotesPerUser: ownNotesPerUserFor(entries) }) })
    process.stderr.write(`profile: ${rate} rps for ${duration} s against pid ${server.pid}\n`)
    const result = await runOpenModelLoad({ url: server.url, rate, durationSeconds: duration, mix, metricsUrl: server.metricsUrl })
    process.stdout.write(`${formatResultText(result)}\n`)
  } finally {
    exit = await server.stop()
  }
  if (exit.code !== 0) process.stderr.write(`profile: the server did not exit cleanly on SIGTERM (code ${exit.code}, signal ${exit.signal}): the profile may be missing\n`)

  const written = (await readdir(outDir)).filter((name) => name.endsWith('.cpuprofile') && !before.has(name))
  if (written.length === 0) throw new Error(`no new .cpuprofile in ${outDir}`)
  // The largest is the server's (a one-worker server writes exactly one).
  const sized = await Promise.all(written.map(async (name) => ({ name, size: (await stat(join(outDir, name))).size })))
  const profilePath = join(outDir, sized.sort((a, b) => b.size - a.size)[0].name)
  const profile = JSON.parse(await readFile(profilePath, 'utf8')) as CpuProfile
  const htmlPath = profilePath.replace(/\.cpuprofile$/, '.html')
  await writeFile(htmlPath, renderFlameGraphHtml(profile, `Jotter CPU profile: ${values.mix ?? 'read'} mix, ${rate} rps × ${duration} s, cache ${values.cache}`))

  const rows = topSelfTime(profile, 15)
  const width = Math.max(...rows.map((row) => row.name.length))
  process.stdout.write(`\nTop ${rows.length} functions by self time (all samples, idle included):\n` +
    rows.map((row) => `  ${row.name.padEnd(width)}  ${row.selfMs.toFixed(1).padStart(9)} ms  ${(row.share * 100).toFixed(1).padStart(5)} %`).join('\n') +
    `\n\nProfile: ${profilePath}\nFlame graph: ${htmlPath}\n`)
  return 0
}

if (import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  exitWith('profile', main(process.argv.slice(2)))
}
