/**
 * The query limits: depth, aliases and directives through graphql-armor's validation rules,
 * tokens through graphql-js' own `maxTokens` parse option (the parser stops counting at the
 * limit, so a huge document is never fully parsed), and the cost through our own rule that
 * reads the actual `first` values (query-cost.ts), run as a Mercurius preExecution hook
 * because only there are the variables known while the parsed document stays cached.
 *
 * Over any limit: QUERY_TOO_COMPLEX (HTTP 400) before any resolver runs. With
 * PRODUCTION=true the message names the limit but not its value, and "Did you mean"
 * suggestions are stripped from validation messages.
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases'
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth'
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives'
import type { FastifyInstance } from 'fastify'
import { type GraphQLError, type GraphQLFormattedError, type ParseOptions, type ValidationContext, type ValidationRule } from 'graphql'
import type { Config } from '../../config.ts'
import { apiError, formattedError, graphqlErrorOf } from '../../errors.ts'
import { operationCost } from './query-cost.ts'

type LimitsConfig = Pick<Config, 'production' | 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxTokens' | 'maxCost'>

export interface QueryLimits {
  validationRules: ValidationRule[]
  parseOptions: ParseOptions
  /** Adds the cost check to the GraphQL route (after `app.register(mercurius)`). */
  registerCostLimit (app: FastifyInstance): void
  /** Rewrites request-level errors: token-limit parse errors, suggestions in PRODUCTION. */
  refineErrors (errors: GraphQLFormattedError[]): GraphQLFormattedError[]
}

export function createQueryLimits (config: LimitsConfig): QueryLimits {
  const expose = !config.production
  const armorOptions = (what: string, limitName: string) => ({
    exposeLimits: expose,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(graphqlErrorOf(apiError('LIMIT_EXCEEDED', { what, limit: limitName, detail: error.message.replace(/^Syntax Error: /, ''), expose })))
    }]
  })
  const validationRules: ValidationRule[] = [
    // flattenFragments: a fragment spread adds no level itself; its fields do. (Without it
    // armor counts each spread as two levels.) Depth hidden in fragments is still counted, and
    // a fragment cycle ends there (and is refused by graphql-js' NoFragmentCyclesRule).
    maxDepthRule({ n: config.maxDepth, flattenFragments: true, ...armorOptions('levels', 'MAX_DEPTH') }) as ValidationRule,
    maxAliasesRule({ n: config.maxAliases, ...armorOptions('aliases', 'MAX_ALIASES') }) as ValidationRule,
    maxDirectivesRule({ n: config.maxDirectives, ...armorOptions('directives', 'MAX_DIRECTIVES') }) as ValidationRule
  ]
  const tooManyTokens = formattedError(apiError('TOO_MANY_TOKENS', { max: config.maxTokens, expose }))

  return {
    validationRules,
    parseOptions: { maxTokens: config.maxTokens },

    registerCostLimit (app) {
      app.graphql.addHook('preExecution', async (schema, document, _context, variables) => {
        const cost = operationCost(schema, document, variables as Record<string, unknown> | undefined)
        if (cost > config.maxCost) {
          throw apiError('COST_OVER_LIMIT', { cost, max: config.maxCost, expose })
        }
      })
    },

    refineErrors (errors) {
      return errors.map((error) => {
        if (TOKEN_LIMIT.test(error.message)) return tooManyTokens
        if (!expose && error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && SUGGESTION.test(error.message)) {
          return { ...error, message: error.message.replace(SUGGESTION, '') }
        }
        return error
      })
    }
  }
}

// Private:

/** graphql-js' message when `maxTokens` stops the parser. */
const TOKEN_LIMIT = /^Syntax Error: Document contains more that \d+ tokens\. Parsing aborted\.$/
/** graphql-js' suggestion suffix: ' Did you mean "notes"?' / ' Did you mean "a", "b", or "c"?'. */
const SUGGESTION = / ?Did you mean .+\?$/
