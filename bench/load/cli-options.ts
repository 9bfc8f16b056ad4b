/**
 * The command line of `npm run load-test`: one table of flags with their defaults and docs
 * (which `--help` prints), parsed once into a frozen, typed object. A bad value names the flag
 * and the value got.
 */
import { parseArgs } from 'node:util'

export interface LoadTestCliOptions {
  rate: number
  durationSeconds: number
  url: string
  /** "read", "write" or a mix file; undefined = the read mix. */
  mix: string | undefined
  users: number
  connections: number
  pipelining: number
  warmupSeconds: number
  timeoutMs: number
  writeShare: number
  idSkew: number
  /** undefined = the URL's origin + /metrics; null = do not scrape. */
  metricsUrl: string | null | undefined
  outDir: string
  sloP99Ms: number
  sloSuccess: number
  findMax: boolean
  stepDurationSeconds: number
  stepFactor: number
  stepRps: number | undefined
  maxRate: number
  loginConcurrency: number
  maxIds: number
  /** Pin this generator to these CPUs (taskset list, e.g. "1"); undefined = leave it. */
  cpus: string | undefined
  /** Check this database for connections left idle in transaction after the run; null = do not. */
  databaseUrl: string | null
}

export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

interface FlagDoc {
  flag: string
  /** Placeholder shown in --help; undefined for a boolean switch. */
  value: string | undefined
  /** Parsed like any given value; undefined = unset. */
  fallback: string | undefined
  doc: string
}

/** Every flag, in --help order. */
export const loadTestFlags: readonly FlagDoc[] = Object.freeze([
  { flag: 'rate', value: 'RPS', fallback: '1000', doc: 'Arrival rate in requests per second (the start rate with --find-max).' },
  { flag: 'duration', value: 'SECONDS', fallback: '300', doc: 'Length of the measured window (with --find-max, --step-duration is used instead).' },
  { flag: 'url', value: 'URL', fallback: 'http://127.0.0.1:8080/graphql', doc: 'GraphQL endpoint, used for the setup phase too.' },
  { flag: 'mix', value: 'read|write|FILE', fallback: 'read', doc: '"read": the seed\'s reads; "write": 85 % those reads, 15 % checked writes (createNote, updateNote, deleteNote, updateUser); or a JSON file [{name, weight, query, variables}] ("$noteId", "$userId", "$viewerId" filled per request) with optional generated writes {name: "createNote"|..., weight, write: true}.' },
  { flag: 'users', value: 'N', fallback: '200', doc: 'Seeded users to log in (seed-user-1..N@jotter.test / seed-password); each request uses one at random.' },
  { flag: 'connections', value: 'N', fallback: '64', doc: 'Keep-alive connections of the load pool.' },
  { flag: 'pipelining', value: 'N', fallback: '1', doc: 'Requests in flight per connection.' },
  { flag: 'warmup', value: 'SECONDS', fallback: '0', doc: 'Load sent before the measured window and not recorded.' },
  { flag: 'timeout-ms', value: 'MS', fallback: '5000', doc: 'Budget per request from its scheduled start; later counts as a "timeout" error.' },
  { flag: 'write-share', value: 'FRACTION', fallback: '0', doc: 'Share of createNote/updateNote writes, e.g. 0.05.' },
  { flag: 'id-skew', value: 'S', fallback: '0', doc: 'Popularity of the note/user ids asked for: 0 = uniform, S > 0 = Zipf with exponent S (1 = typical web traffic).' },
  { flag: 'metrics-url', value: 'URL|none', fallback: undefined, doc: 'Prometheus endpoint (default: the URL\'s origin + /metrics); "none" skips it.' },
  { flag: 'out', value: 'DIR', fallback: 'bench/results', doc: 'Where the JSON result and the HTML report go.' },
  { flag: 'slo-p99-ms', value: 'MS', fallback: '200', doc: 'The run fails (exit 1) unless p99 is below this.' },
  { flag: 'slo-success', value: 'RATE', fallback: '0.99', doc: 'The run fails (exit 1) unless the success rate is at least this: a fraction (0.99) or a percent (99).' },
  { flag: 'find-max', value: undefined, fallback: undefined, doc: 'Step the rate up from --rate and report the highest one that meets the SLO.' },
  { flag: 'step-duration', value: 'SECONDS', fallback: '20', doc: '--find-max: seconds per stage.' },
  { flag: 'step-factor', value: 'X', fallback: '1.25', doc: '--find-max: each stage\'s rate is the previous × X.' },
  { flag: 'step-rps', value: 'RPS', fallback: undefined, doc: '--find-max: add RPS per stage instead of multiplying.' },
  { flag: 'max-rate', value: 'RPS', fallback: '20000', doc: '--find-max: stop after a passing stage at this rate.' },
  { flag: 'login-concurrency', value: 'N', fallback: '8', doc: 'Setup logins in flight at once (argon2 is slow on purpose).' },
  { flag: 'max-ids', value: 'N', fallback: '5000', doc: 'Cap on user ids and on note ids collected at setup.' },
  { flag: 'cpus', value: 'LIST', fallback: undefined, doc: 'Pin this generator to these CPUs with taskset (e.g. 1); the report states the pinning of the generator, and of the server and PostgreSQL when bench:server started them.' },
  { flag: 'database-url', value: 'URL|none', fallback: undefined, doc: 'After the run, count this database\'s connections left idle in transaction; any fails the run (exit 1). Default: $JOTTER_DATABASE_URL (bench:server sets it).' },
  { flag: 'help', value: undefined, fallback: undefined, doc: 'Print this help.' }
])

/** Returns null when --help was asked for. Throws UsageError on a bad flag or value. */
export function parseLoadTestArgs (argv: readonly string[]): Readonly<LoadTestCliOptions> | null {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: Object.fromEntries(loadTestFlags.map((flag) => [flag.flag, { type: flag.value === undefined ? 'boolean' : 'string' }] as const)),
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help === true) return null
  const read = (flag: string): string | undefined => {
    const given = values[flag]
    return typeof given === 'string' ? given : loadTestFlags.find((doc) => doc.flag === flag)?.fallback
  }
  const number = (flag: string, check: (value: number) => boolean, contract: string): number => {
    const raw = read(flag)
    const value = Number(raw)
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${flag} must be ${contract}: ${raw}`)
    return value
  }
  const positive = (value: number): boolean => value > 0
  const positiveInteger = (value: number): boolean => Number.isInteger(value) && value > 0
  const url = (flag: string): string => {
    const raw = read(flag) as string
    try {
      const parsed = new URL(raw)
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http')
      return parsed.href
    } catch {
      throw new UsageError(`--${flag} must be an http(s) URL: ${raw}`)
    }
  }
  const metricsRaw = read('metrics-url')
  const successRaw = (read('slo-success') as string).replace(/%$/, '')

  return Object.freeze({
    rate: number('rate', positive, 'a positive number'),
    durationSeconds: number('duration', positive, 'a positive number of seconds'),
    url: url('url'),
    mix: read('mix'),
    users: number('users', positiveInteger, 'a positive integer'),
    connections: number('connections', positiveInteger, 'a positive integer'),
    pipelining: number('pipelining', positiveInteger, 'a positive integer'),
    warmupSeconds: number('warmup', (value) => value >= 0, 'zero or a positive number of seconds'),
    timeoutMs: number('timeout-ms', positive, 'a positive number of milliseconds'),
    writeShare: number('write-share', (value) => value >= 0 && value < 1, 'a fraction in [0, 1)'),
    idSkew: number('id-skew', (value) => value >= 0 && value <= 10, 'a number in [0, 10]'),
    metricsUrl: metricsRaw === undefined ? undefined : metricsRaw === 'none' ? null : url('metrics-url'),
    outDir: read('out') as string,
    sloP99Ms: number('slo-p99-ms', positive, 'a positive number of milliseconds'),
    sloSuccess: successFraction(successRaw),
    findMax: values['find-max'] === true,
    stepDurationSeconds: number('step-duration', positive, 'a positive number of seconds'),
    stepFactor: number('step-factor', (value) => value > 1, 'a number greater than 1'),
    stepRps: read('step-rps') === undefined ? undefined : number('step-rps', positive, 'a positive number'),
    maxRate: number('max-rate', positive, 'a positive number'),
    loginConcurrency: number('login-concurrency', positiveInteger, 'a positive integer'),
    maxIds: number('max-ids', positiveInteger, 'a positive integer'),
    cpus: cpuList(read('cpus')),
    databaseUrl: databaseUrl(read('database-url') ?? process.env.JOTTER_DATABASE_URL)
  })
}

export function formatLoadTestHelp (): string {
  const lines = loadTestFlags.map((flag) => {
    const left = `  --${flag.flag}${flag.value === undefined ? '' : ` ${flag.value}`}`
    const fallback = flag.fallback === undefined ? '' : ` Default: ${flag.fallback}.`
    return `${left.padEnd(30)} ${flag.doc}${fallback}`
  })
  return [
    'Usage: npm run load-test -- --rate 1000 --duration 300 [--url URL] [--mix read|write|FILE] [--users N] [...]',
    '',
    'Open-model load generator: requests leave on schedule whatever the server does, and latency',
    'counts from the scheduled start. Exit code 0 = SLO met, 1 = SLO failed, 2 = usage or setup error.',
    '',
    ...lines
  ].join('\n')
}

// Private:

function cpuList (raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(raw)) throw new UsageError(`--cpus must be a CPU list like 1 or 0,2-3: ${raw}`)
  return raw
}

function databaseUrl (raw: string | undefined): string | null {
  if (raw === undefined || raw === '' || raw === 'none') return null
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new UsageError(`--database-url must be a postgres:// URL or none: ${raw.replace(/:[^:@/]*@/, ':***@')}`)
  return raw
}

/** "0.99" and "99" (and "99%") both mean 99 %; 1 means 100 %, not 1 %. */
function successFraction (raw: string): number {
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 100) {
    throw new UsageError(`--slo-success must be a fraction in (0, 1] or a percent in (1, 100]: ${raw}`)
  }
  return value <= 1 ? value : value / 100
}
