/**
 * The deterministic data set `npm run seed` writes, whether straight into the database or
 * through the API: user i is `seed-user-{i}@jotter.test` / `seed-password`, "Seed User {i}",
 * with notes "Seed note {i}.{j}", every other one PUBLIC, carrying 0-3 tags of a vocabulary of 20.
 */

export const SEED_PASSWORD = 'seed-password'
export const seedEmail = (i: number): string => `seed-user-${i}@jotter.test`
export const seedUserName = (i: number): string => `Seed User ${i}`

export const TAG_VOCABULARY = ['work', 'home', 'ideas', 'todo', 'reading', 'travel', 'recipes', 'music', 'health', 'finance',
  'graphql', 'postgres', 'node', 'design', 'meetings', 'journal', 'books', 'garden', 'fitness', 'projects'] as const

export interface SeedNote {
  title: string
  body: string
  visibility: 'PUBLIC' | 'PRIVATE'
  tags: string[]
}

/** Note j of user i, the same on every run. */
export function seedNote (i: number, j: number): SeedNote {
  return {
    title: `Seed note ${i}.${j}`,
    body: `Note ${j} of Seed User ${i}. `.repeat(1 + ((i + j) % 5)),
    visibility: (i + j) % 2 === 0 ? 'PUBLIC' : 'PRIVATE',
    tags: seedTags(i, j)
  }
}

/** Tag names of note j of user i: 0-3 distinct names, the same on every run. */
export function seedTags (i: number, j: number): string[] {
  const count = (i + j) % 4
  const names = new Set<string>()
  for (let k = 0; names.size < count; k++) names.add(TAG_VOCABULARY[(i * 7 + j * 3 + k * 5) % TAG_VOCABULARY.length])
  return [...names]
}
