/**
 * The response cache's HTTP side: ETags of stored bytes, 304 for a matching If-None-Match, and
 * the Vary / Cache-Control every GraphQL response carries.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Viewer } from '../viewer.ts'
import type { StoredResponse } from './response-store.ts'

/** Vary + Cache-Control of every GraphQL response, cached or not. */
export function setCachingHeaders (reply: FastifyReply, viewer: Viewer): void {
  // The same URL answers differently per token: shared caches must key on Authorization, and
  // must not keep a signed-in user's answer at all.
  reply.header('vary', 'Authorization')
  reply.header('cache-control', viewer.id === null ? 'no-cache' : 'private, no-store')
}

/** Answers with the stored bytes, or 304 when the client holds them already. */
export function sendStored (request: FastifyRequest, reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.header('etag', response.etag)
  if (matchesEtag(request, response.etag)) return reply.code(304).send()
  return reply.send(response.body)
}

export function matchesEtag (request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  return header.trim() === '*' || header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag)
}

export function etagOf (body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`
}
