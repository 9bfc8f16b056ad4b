/**
 * What a note's visibility may have been over time, for coherence properties: its initial
 * state and its flips, each known from just before it was sent until its answer.
 */
export interface VisibilityFlip { start: number, end: number, to: 'PUBLIC' | 'PRIVATE' }

/** Whether the note may have been PUBLIC at some moment in [from, to] (its flips are sequential). */
export function couldBePublic (note: { initial: 'PUBLIC' | 'PRIVATE', events: readonly VisibilityFlip[] }, from: number, to: number): boolean {
  let state = note.initial
  for (const event of note.events) {
    if (event.end < from) { state = event.to; continue }
    if (event.start > to) break
    if (state === 'PUBLIC' || event.to === 'PUBLIC') return true
    state = event.to
  }
  return state === 'PUBLIC'
}
