/**
 * A mutation's invalidations, applied before its response leaves: this process's caches drop
 * what the resolvers said changed (`ctx.invalidatedTags`), then the request waits for the
 * database's own account of its commits to come back through the bus, so its client never
 * reads its own write stale. Every other process hears the same notification on its own.
 * A mutation field the cache does not know (not in known-mutations.ts) drops everything.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Kind, type DocumentNode } from 'graphql'
import type { InvalidationBus } from '../changes/invalidation-bus.ts'
import type { RequestContext } from '../graphql/context.ts'
import { knownMutationFields } from './known-mutations.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** A mutation field the cache does not know ran: drop everything. */
    responseCacheUnknownMutation: string | null
  }
}

/** How long a mutation's response waits for its own notification at most (the bus is ~1 ms). */
const BUS_SYNC_TIMEOUT_MS = 250

/** Request decorations: call before the GraphQL route is registered. */
export function decorateMutationInvalidation (app: FastifyInstance): void {
  app.decorateRequest('responseCacheUnknownMutation', null)
}

/** Mercurius hooks: call after the GraphQL route is registered. */
export function registerMutationInvalidation (app: FastifyInstance, bus: InvalidationBus): void {
  app.graphql.addHook('preExecution', (_schema, document, context) => {
    const unknown = unknownMutationField(document)
    if (unknown !== undefined) requestOf(context).responseCacheUnknownMutation = unknown
  })

  app.graphql.addHook('onResolution', async (_execution, context) => {
    const request = requestOf(context)
    const ctx = context as unknown as RequestContext
    const unknownMutation = request.responseCacheUnknownMutation !== null
    if (unknownMutation) {
      request.log.info({ field: request.responseCacheUnknownMutation }, 'response cache: unknown mutation, dropping every cached response')
      request.responseCacheUnknownMutation = null
      ctx.invalidatedTags.clear()
      bus.announce('all')
    } else if (ctx.invalidatedTags.size > 0) {
      const tags = [...ctx.invalidatedTags]
      ctx.invalidatedTags.clear()
      bus.announce(tags)
    } else {
      return
    }
    // Then the database's own account of the change (whatever the triggers name beyond the
    // resolvers' facts) reaches this process before the response leaves too: the
    // notifications of this request's own commits, or, for a write whose transaction is not
    // known (an unknown mutation), a marker sent after it.
    if (ctx.commits.length > 0 && !unknownMutation) await bus.awaitCommits(ctx.commits, BUS_SYNC_TIMEOUT_MS)
    else await bus.sync(BUS_SYNC_TIMEOUT_MS)
  })
}

/** The Fastify request behind a Mercurius context. */
export function requestOf (context: unknown): FastifyRequest {
  return (context as { reply: FastifyReply }).reply.request
}

// Private:

/** The first mutation root field not in the known list, if any (`__typename` is harmless). */
function unknownMutationField (document: DocumentNode): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'mutation') continue
    for (const selection of definition.selectionSet.selections) {
      // A fragment at the mutation root hides its fields: treat it as unknown.
      if (selection.kind !== Kind.FIELD) return `...${selection.kind}`
      if (!knownMutationFields.has(selection.name.value)) return selection.name.value
    }
  }
  return undefined
}
