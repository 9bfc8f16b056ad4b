/**
 * The mixes `npm run bench:compare` sends, how the floor replays them, and the check that
 * the reference server answers what Jotter answers.
 *
 * The write mix is the read mix at 90 % plus 10 % checked writes, built from the generator's
 * own entries and planner (request-mix.ts, write-planner.ts): createNote 5 % (2-3 of four
 * shared tags, so tag upserts overlap) and updateUser 5 % (a rename of the viewer). The
 * mutation mixes send one of those two writes alone, so that what a mutation costs each server
 * is read per request.
 */
import { createRequestMix, defaultMixEntries } from '../load/request-mix.ts'
import type { Fixtures, MixEntry, PlannedRequest, RequestMix } from '../load/request-mix.ts'

export type MixName = 'read' | 'write' | 'createNote' | 'updateUser'
export const MIX_NAMES: readonly MixName[] = Object.freeze(['read', 'write', 'createNote', 'updateUser'])

/** What `--mix` accepts besides a list of mix names. */
export const MIX_GROUPS: Readonly<Record<string, readonly MixName[]>> = Object.freeze({
  both: Object.freeze(['read', 'write'] as MixName[]),
  mutations: Object.freeze(['createNote', 'updateUser'] as MixName[]),
  all: MIX_NAMES
})

export const MIX_TITLES: Readonly<Record<MixName, string>> = Object.freeze({
  read: 'Read mix (userList 30 %, noteDetail 40 %, userNotes 30 %)',
  write: 'Write mix (the reads at 90 %, createNote 5 % with overlapping tags, updateUser 5 %)',
  createNote: 'createNote alone (2-3 of four shared tags; `author { id } tags { name }` back)',
  updateUser: 'updateUser alone (a rename of the viewer)'
})

export const compareMixEntries: Readonly<Record<MixName, readonly MixEntry[]>> = Object.freeze({
  read: defaultMixEntries,
  write: Object.freeze([
    ...defaultMixEntries.map((entry) => ({ ...entry, weight: entry.weight * 0.9 })),
    { name: 'createNote', weight: 5, write: true },
    { name: 'updateUser', weight: 5, write: true }
  ] as MixEntry[]),
  createNote: Object.freeze([{ name: 'createNote', weight: 1, write: true }] as MixEntry[]),
  updateUser: Object.freeze([{ name: 'updateUser', weight: 1, write: true }] as MixEntry[])
})

/** With `persistedQueries`, reads go as automatic-persisted-query hashes (the document only after PERSISTED_QUERY_NOT_FOUND). */
export function createCompareMix (name: MixName, fixtures: Fixtures, { persistedQueries = false } = {}): RequestMix {
  return createRequestMix({ entries: compareMixEntries[name], fixtures, persistedQueries })
}

/**
 * The mix as the floor (bench/bare-server.ts) is sent it: the same requests, but a write's
 * answer is not checked, since the floor replays one recorded answer per operation and cannot
 * echo the id or name a write asked for. Success there means HTTP 200 without errors.
 */
export function replayedMix (mix: RequestMix): RequestMix {
  return {
    operationNames: mix.operationNames,
    weights: mix.weights,
    userCount: mix.userCount,
    writeShare: mix.writeShare,
    idSkew: mix.idSkew,
    mismatches: mix.mismatches,
    next (): PlannedRequest {
      const { expect: _expect, ...planned } = mix.next()
      return planned
    },
    learn: () => null
  }
}

export interface AnswerCheck {
  compared: number
  equal: number
  /** The first few requests whose answers differed, both answers cut to 300 characters. */
  differences: Array<{ operation: string, request: string, jotter: string, reference: string }>
}

/**
 * Sends `count` read requests of `mix`, each once to Jotter and once to the reference server
 * (the same body and token, at the same time, over the same data), and compares status and
 * body byte for byte. Writes are not sent: they would change the data between the two answers.
 */
export async function compareAnswers (jotterUrl: string, referenceUrl: string, mix: RequestMix, count: number): Promise<AnswerCheck> {
  const check: AnswerCheck = { compared: 0, equal: 0, differences: [] }
  for (let attempt = 0; attempt < count * 20 && check.compared < count; attempt++) {
    const planned = mix.next()
    if (planned.expect !== undefined) continue
    const [jotter, reference] = await Promise.all([jotterUrl, referenceUrl].map(async (url) => {
      const response = await fetch(url, { method: 'POST', headers: planned.headers, body: planned.body, signal: AbortSignal.timeout(10_000) })
      return `${response.status} ${await response.text()}`
    }))
    check.compared++
    if (jotter === reference) check.equal++
    else if (check.differences.length < 3) {
      check.differences.push({ operation: mix.operationNames[planned.operationIndex], request: planned.body, jotter: jotter.slice(0, 300), reference: reference.slice(0, 300) })
    }
  }
  return check
}
