/**
 * The deployment file's schema: the single source for validation, the TypeScript types, the
 * generated JSON Schema (docs/omega.schema.json) and docs/configuration.md. Every key carries a
 * `.describe()` so the JSON Schema documents itself.
 */
import { z } from 'zod';
import { PolicySchema } from '../policy/schema.js';

export { PolicySchema };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A duration: milliseconds as a number, or a string such as `250ms`, `30s`, `5m`, `1h`, `7d`. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/i, 'a duration such as 250ms, 30s, 5m, 1h')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i.exec(v)!;
    return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!);
  });

/** A size: bytes as a number, or a string such as `512kb`, `4mb`. */
export const ByteSize = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i, 'a size such as 512kb or 4mb')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i.exec(v)!;
    return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  });

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (max 64)');

const ADMIN_ROLES = ['admin', 'reviewer', 'auditor'] as const;

/** Console sessions (cookie `omega_session`), stored server-side in `storage.url`. */
export const AdminSessionsSchema = z
  .object({
    idle_timeout: Duration.default(30 * 60_000).describe('A console session ends after this long without a request.'),
    absolute_timeout: Duration.default(12 * 3_600_000).describe('A console session ends this long after sign-in, however active.'),
    cache_ttl: Duration.default(5000).describe("How long a replica trusts a session it has read from the store before reading it again: a sign-out takes effect at once on the replica that served it, at once on the others when redis.url is set (announced), and within this time at worst."),
  })
  .strict()
  .refine((s) => s.idle_timeout > 0 && s.absolute_timeout > 0, { message: 'timeouts must be positive' })
  .prefault({})
  .describe('Console sign-in sessions: the cookie holds a random id, the store only its hash.');

/** OpenID Connect sign-in for the console: who may sign in, with which role and tenant scope. */
export const AdminOidcSchema = z
  .object({
    issuer: z.string().url().describe('The OpenID provider\'s issuer URL (its /.well-known/openid-configuration is read at the first sign-in). Must be https, except on loopback.'),
    client_id: z.string().min(1).describe('The client id registered at the provider for the console.'),
    client_secret: z.string().min(1).optional().describe('The client secret (use ${ENV} interpolation). Unset: a public client (PKCE only); then the login and its callback must reach the same replica.'),
    redirect_uri: z.string().url().describe('Where the provider sends the browser back: https://<gateway>/console/auth/oidc/callback, registered at the provider.'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']).describe('Scopes requested (`openid` is always added).'),
    name: z.string().min(1).default('Single sign-on').describe('The label of the sign-in button in the console.'),
    role_claim: z.string().min(1).default('roles').describe('The claim holding the user\'s roles or groups (a string or a list; a dotted path such as `realm_access.roles` reads a nested claim). Read from the ID token, else from the userinfo endpoint.'),
    roles: z.record(z.string(), z.enum(ADMIN_ROLES)).default({}).describe('Claim value → console role (`admin`, `reviewer`, `auditor`). A user with several mapped values gets the first of admin, reviewer, auditor.'),
    default_role: z.enum(ADMIN_ROLES).optional().describe('The role of a user whose claims map to no role. Unset: such users are refused.'),
    tenant_claim: z.string().min(1).optional().describe('The claim naming the one tenant a user may see (dotted path allowed); the value `*` means all tenants. When set, a user without it is refused. Unset: users see all tenants.'),
  })
  .strict();

export const PROVIDER_TYPES = ['openai', 'openai-compatible', 'anthropic', 'gemini', 'cohere', 'azure-openai', 'demo'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const ProviderSchema = z
  .object({
    type: z.enum(PROVIDER_TYPES).describe('Which API the provider speaks. `demo` is a built-in local echo upstream for first runs.'),
    base_url: z.string().url().optional().describe("The provider's API root, e.g. https://api.openai.com/v1. Defaults per type."),
    api_key: z.string().optional().describe('The credential injected upstream. Use ${ENV} interpolation; never commit a key.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra headers sent upstream with every request (e.g. OpenAI-Organization).'),
    timeout: Duration.optional().describe('Upstream timeout for this provider; defaults to server.upstream_timeout.'),
    connections: z.number().int().positive().default(128).describe('Max keep-alive connections to this provider.'),
    circuit_breaker: z
      .object({
        enabled: z.boolean().default(true).describe('Skip a failing deployment for a while instead of sending it more traffic.'),
        failures: z.number().int().positive().default(5).describe('Consecutive failures that open the circuit.'),
        error_rate: z.number().gt(0).max(1).default(0.5).describe('Failure ratio within `window` that opens the circuit (once `min_requests` were seen).'),
        min_requests: z.number().int().positive().default(20).describe('Requests within `window` before `error_rate` applies.'),
        window: Duration.default(60_000).describe('Sliding window for `error_rate`.'),
        cooldown: Duration.default(30_000).describe('How long an open circuit stays open before one probe request is let through (half-open).'),
      })
      .strict()
      .prefault({})
      .describe("Circuit breaker of each deployment on this provider (failures: 5xx, timeouts, connection errors, invalid responses; not 429 or the client's 4xx)."),
    limits: z
      .object({
        concurrency: z.number().int().positive().optional().describe('Most requests in flight to one deployment; more wait in a queue.'),
        rpm: z.number().int().positive().optional().describe('Requests per minute sent to one deployment.'),
        tpm: z.number().int().positive().optional().describe('Estimated tokens per minute sent to one deployment.'),
        queue_timeout: Duration.default(2000).describe('Longest a request waits for capacity before the deployment counts as throttled (the next in the fallback chain is tried).'),
      })
      .strict()
      .prefault({})
      .describe("Traffic shaping per deployment, so bursts wait briefly instead of tripping the provider's own throttling."),
  })
  .strict();

export const DeploymentSchema = z
  .object({
    provider: Id.describe('Name of an entry under `providers`.'),
    model: z.string().min(1).optional().describe("The upstream model (or Azure deployment) name; defaults to the model's `model`, else its public name."),
    weight: z.number().positive().default(1).describe('Share of traffic with `balance: weighted`.'),
  })
  .strict();

export const PriceSchema = z
  .object({
    input: z.number().nonnegative().describe('USD per million input tokens.'),
    output: z.number().nonnegative().describe('USD per million output tokens.'),
    cached_input: z.number().nonnegative().optional().describe('USD per million cached input tokens; defaults to `input`.'),
  })
  .strict();

export const ModelSchema = z
  .object({
    provider: Id.optional().describe('Name of an entry under `providers` (one deployment). Give this or `deployments`.'),
    model: z.string().min(1).optional().describe('The upstream model name; defaults to the catalog entry of the public name, else the public name.'),
    deployments: z.array(DeploymentSchema).min(1).optional().describe('Several places serving this model (accounts, regions, providers), balanced by `balance`.'),
    balance: z.enum(['weighted', 'least-busy']).default('weighted').describe('How a deployment is chosen: weighted random, or fewest requests in flight.'),
    retries: z.number().int().min(0).max(10).default(1).describe('Further attempts on this model (its next deployment, or the same one after a backoff) before the fallbacks.'),
    price: PriceSchema.optional().describe('Prices per million tokens; defaults to the shipped catalog entry, else 0.'),
    fallbacks: z.array(z.string()).default([]).describe('Public model names to try, in order, when this one fails with 429, 5xx, a timeout or a connection error.'),
    context_fallback: z.string().optional().describe('A larger-context model to try when this one refuses the input as too long.'),
    context_window: z.number().int().positive().optional().describe('Max input+output tokens.'),
    max_output_tokens: z.number().int().positive().optional().describe('Max output tokens; bounds cost estimates.'),
    embeddings: z.boolean().optional().describe('True for embedding models (served by /v1/embeddings); defaults to the catalog entry.'),
  })
  .strict()
  .refine((m) => (m.provider === undefined) !== (m.deployments === undefined), { message: 'give exactly one of `provider` or `deployments`' });

export const BudgetSchema = z
  .object({
    usd: z.number().nonnegative().describe('Spend limit in USD for one period.'),
    period: z.enum(['daily', 'weekly', 'monthly', 'total']).default('monthly').describe('When the spend counter resets.'),
    alerts: z.array(z.number().positive().max(10)).default([]).describe('Fractions of `usd` that raise an alert, e.g. [0.5, 0.8, 1.0].'),
  })
  .strict();

export const RateLimitSchema = z
  .object({
    rpm: z.number().int().positive().optional().describe('Requests per minute.'),
    tpm: z.number().int().positive().optional().describe('Tokens per minute.'),
    per_model: z
      .record(
        z.string(),
        z
          .object({
            rpm: z.number().int().positive().optional().describe('Requests per minute for this model.'),
            tpm: z.number().int().positive().optional().describe('Tokens per minute for this model.'),
          })
          .strict(),
      )
      .default({})
      .describe('Limits per public model name within this scope.'),
  })
  .strict();

export const KeySchema = z
  .object({
    id: Id.describe('Key id shown in audit records and the admin API (never the secret).'),
    hash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>')
      .optional()
      .describe('sha256 of the key, as printed by `omega keys hash`.'),
    key: z.string().min(20).optional().describe('The plaintext key (hashed at load); prefer `hash`, or ${ENV} interpolation.'),
    budget: BudgetSchema.optional().describe('Spend limit of this key alone.'),
    rate_limits: RateLimitSchema.optional().describe('Quotas of this key alone.'),
  })
  .strict()
  .refine((k) => (k.hash === undefined) !== (k.key === undefined), { message: 'give exactly one of `hash` or `key`' });

/** Which MCP servers and tools a scope may use (docs/mcp.md). Every scope that sets it must allow a tool. */
export const McpGrantSchema = z
  .object({
    servers: z.array(z.string()).default([]).describe('Names (or `*` patterns) of entries under `mcp_servers` this scope may use.'),
    tools: z.array(z.string()).default(['*']).describe('Tool names or patterns this scope may call: `tool`, or `server/tool` to name one server; `*` matches any run of characters.'),
    tool_rpm: z.record(z.string(), z.number().int().positive()).default({}).describe('Calls per minute per tool, by tool pattern (`tool` or `server/tool`), counted per agent.'),
  })
  .strict();

const ScopeFields = {
  mcp: McpGrantSchema.optional().describe('MCP servers and tools this scope may use; absent on the tenant means none.'),
  budget: BudgetSchema.optional().describe('Spend limit for this scope.'),
  rate_limits: RateLimitSchema.optional().describe('Request and token quotas for this scope.'),
  policy: Id.optional().describe('Name of an entry under `policies`; inherited from the enclosing scope when absent.'),
};

export const AgentSchema = z
  .object({
    ...ScopeFields,
    keys: z.array(KeySchema).default([]).describe('API keys that authenticate as this agent.'),
  })
  .strict();

export const TeamSchema = z
  .object({
    ...ScopeFields,
    agents: z.record(Id, AgentSchema).default({}).describe('Agents of this team, by id.'),
  })
  .strict();

export const TenantSchema = z
  .object({
    ...ScopeFields,
    name: z.string().optional().describe('Display name.'),
    models: z.array(z.string()).default(['*']).describe('Public model names this tenant may use; `*` allows every model.'),
    aliases: z.record(z.string(), z.string()).default({}).describe('Tenant-specific model aliases, e.g. { fast: gpt-5.4-mini }.'),
    store_content: z.boolean().optional().describe("Store this tenant's prompt and completion text in audit records; overrides audit.store_content."),
    audit_retention_days: z.number().int().positive().optional().describe("This tenant's audit retention; overrides audit.retention_days."),
    teams: z.record(Id, TeamSchema).default({}).describe('Teams of this tenant, by id.'),
  })
  .strict();

export const McpServerSchema = z
  .object({
    url: z.string().url().optional().describe('Streamable HTTP endpoint of the MCP server.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Headers sent upstream (credentials, injected server-side; use ${ENV} interpolation).'),
    command: z.string().optional().describe('stdio server: the program to start (only this deployment file can name one).'),
    args: z.array(z.string()).default([]).describe('stdio server: its arguments.'),
    env: z.record(z.string(), z.string()).default({}).describe('stdio server: extra environment variables.'),
    timeout: Duration.default(30_000).describe('Longest wait for one upstream MCP request (tools/list, tools/call).'),
    tool_prices_usd: z
      .record(z.string().min(1), z.number().nonnegative().finite())
      .default({})
      .describe('Price in USD of one tools/call, by tool name or `*` pattern (an exact name wins, else the first matching pattern in file order): held against the caller\'s tenant, team, agent and key budgets before the call and charged when the server answers. Unpriced tools are free.'),
  })
  .strict()
  .refine((m) => (m.url === undefined) !== (m.command === undefined), { message: 'give exactly one of `url` or `command`' });

export const ConfigSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('0.0.0.0').describe('Interface to listen on.'),
        port: z.number().int().min(0).max(65535).default(8080).describe('Port to listen on (0 picks a free one).'),
        body_limit: ByteSize.default(4 * 1024 ** 2).describe('Largest accepted request body; larger bodies get 413.'),
        upstream_timeout: Duration.default(120_000).describe('Time allowed for an upstream to send response headers, and between body chunks.'),
        connect_timeout: Duration.default(10_000).describe('Time allowed to open a connection to an upstream.'),
        shutdown_grace: Duration.default(30_000).describe('On SIGTERM, how long in-flight requests may finish before the process exits.'),
        trust_proxy: z.boolean().default(false).describe('Take the client IP from X-Forwarded-For (only behind a trusted proxy).'),
        request_timeout: Duration.default(60_000).describe('Time allowed to receive a whole request (headers and body); a slower client gets 408 and is disconnected.'),
        headers_timeout: Duration.default(20_000).describe('Time allowed to receive the request headers (at most request_timeout).'),
        keep_alive_timeout: Duration.default(5_000).describe('An idle keep-alive connection is closed after this long.'),
        max_requests_per_socket: z.number().int().min(0).default(0).describe("Requests served on one keep-alive connection before it is closed (0: no limit). Node answers 503 to a request that races the closing connection, so a limit can fail eager keep-alive clients; idle connections are reaped by keep_alive_timeout either way."),
        max_connections: z.number().int().positive().default(10_000).describe('Open client connections the gateway accepts in total; more are refused.'),
        max_connections_per_ip: z.number().int().positive().default(256).describe('Open client connections from one client address; more are refused (503).'),
        max_url_length: z.number().int().min(64).default(8192).describe('Longest request URL accepted; longer ones get 414.'),
        auth_throttle: z
          .object({
            max_failures: z.number().int().positive().default(20).describe('Failed authentications allowed per client IP, and per key prefix, within `window`.'),
            window: Duration.default(60_000).describe('The window over which failed authentications are counted.'),
            block: Duration.default(60_000).describe('How long a client IP or key prefix over the limit is refused (429 too_many_auth_failures, with Retry-After).'),
            key_prefix_length: z.number().int().positive().default(12).describe('Characters of a presented key that identify its prefix for throttling.'),
            max_tracked: z.number().int().positive().default(10_000).describe('Client IPs and key prefixes tracked at once; the oldest are forgotten beyond this.'),
            audit_sample: z.number().int().min(0).default(10).describe('Refusals of unauthenticated requests fully audited per client IP per audit_interval; the rest are counted into one summary record per interval.'),
            audit_interval: Duration.default(60_000).describe('The interval of audit sampling for unauthenticated refusals.'),
          })
          .strict()
          .prefault({})
          .describe('Throttling of failed authentication (/v1 keys and admin tokens) and audit sampling of unauthenticated refusals.'),
      })
      .strict()
      .refine((s) => s.headers_timeout <= s.request_timeout, { message: 'headers_timeout must not exceed request_timeout', path: ['headers_timeout'] })
      .prefault({})
      .describe('The HTTP listener.'),
    storage: z
      .object({
        url: z
          .string()
          .regex(/^(sqlite|postgres|postgresql):\/\/.+/, 'must be sqlite://PATH or postgres://USER@HOST/DATABASE')
          .default('sqlite://./data/omega.db')
          .describe('sqlite://PATH (embedded default, one process) or postgres://USER:PASSWORD@HOST:PORT/DATABASE (shared by replicas).'),
        pool_size: z.number().int().min(1).max(1000).default(10).describe('PostgreSQL only: connections in each process\'s pool.'),
        on_unavailable: z
          .enum(['open', 'closed'])
          .default('open')
          .describe(
            'When the database stops answering, what the request path does with what needs it: `open` serves from what the process holds (runtime keys from the key cache, strict audit records to the fsynced spool, stored responses kept in memory until written); `closed` answers 503 store_unavailable to such requests. Either way batched audit records are spooled and replayed, admin writes and reads and review holds answer 503 store_unavailable, and the return is automatic.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Durable store for keys, audit records and reviews.'),
    audit: z
      .object({
        flush_interval: Duration.default(200).describe('Longest time a record waits in memory before its group commit.'),
        batch_size: z.number().int().positive().default(500).describe('A group commit happens at once when this many records wait.'),
        durability: z
          .enum(['batched', 'strict'])
          .default('batched')
          .describe('batched: group commits off the hot path (a crash loses at most flush_interval of records and their spend); strict: a decision record (with the reserved worst case) is durable before any request is forwarded, and its cost before the answer ends.'),
        store_content: z.boolean().default(false).describe('Store prompt and completion text in audit records (as forwarded: with redactions applied). Default: only hashes and sizes.'),
        retention_days: z.number().int().positive().optional().describe("Delete records older than this many days (hourly; each run is recorded in the tenant's hash chain). Unset: keep forever."),
        spool_file: z.string().optional().describe('Where records go while the store cannot take them; replayed when it can. Default: audit-spool.jsonl beside the SQLite file.'),
        thread: z
          .boolean()
          .default(true)
          .describe('SQLite file only: serialise, hash and commit audit records on a worker thread with its own connection (true), or on the event loop: one transaction per group commit, its records inserted 16 per turn of the loop (false). PostgreSQL and in-memory SQLite always commit on the event loop (PostgreSQL 64 records per turn).'),
      })
      .strict()
      .prefault({})
      .describe('The audit trail.'),
    admin: z
      .object({
        tokens: z
          .array(
            z
              .object({
                id: Id.describe('Who this token is: recorded as the reviewer / actor of admin actions.'),
                hash: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex digits>').optional().describe('sha256 of the token (`omega keys hash TOKEN`).'),
                token: z.string().min(20).optional().describe('The token itself (hashed at load); use only with ${ENV}.'),
                role: z
                  .enum(['admin', 'reviewer', 'auditor'])
                  .default('admin')
                  .describe('admin: everything in its scope; reviewer: the review queue only; auditor: read-only audit, spend, overview and health (docs/admin-api.md).'),
                tenant: Id.optional().describe('Limits the token to one tenant (it sees and changes only that tenant\'s data); absent: all tenants.'),
              })
              .strict()
              .refine((t) => (t.hash === undefined) !== (t.token === undefined), { message: 'give exactly one of `hash` or `token`' }),
          )
          .default([])
          .describe('Bearer tokens for the admin API (/admin/v1, docs/admin-api.md), each with a role and an optional tenant scope; without tokens (or sign-in) the admin API answers 401 to everything.'),
        sessions: AdminSessionsSchema,
        oidc: AdminOidcSchema.optional().describe('Console sign-in through an OpenID Connect provider (authorization code with PKCE). Unset: sign-in with admin tokens only.'),
      })
      .strict()
      .prefault({})
      .describe('The admin API (reviews, spend, policies, audit).'),
    keys: z
      .object({
        cache_ttl: Duration.default(5000).describe('How long a runtime-created key stays cached; revocations take effect within this time (at once on every replica when redis.url is set).'),
      })
      .strict()
      .prefault({})
      .describe('Runtime API keys (created with `omega keys create`).'),
    providers: z.record(Id, ProviderSchema).default({}).describe('Upstream providers by name.'),
    models: z.record(z.string().min(1), ModelSchema).default({}).describe('Public model names and where they run.'),
    mcp_servers: z.record(Id, McpServerSchema).default({}).describe('Upstream MCP servers served to tenants at /mcp/<name>.'),
    tenants: z.record(Id, TenantSchema).default({}).describe('Tenants, their teams, agents and keys.'),
    policies: z.record(Id, PolicySchema).default({}).describe('Named policies referenced by tenants, teams and agents.'),
    telemetry: z
      .object({
        otlp_endpoint: z.string().url().optional().describe('OpenTelemetry collector (OTLP/HTTP) base URL or traces URL; traces are off when unset.'),
        otlp_headers: z.record(z.string(), z.string()).default({}).describe('Headers sent to the collector (e.g. an auth token).'),
        public_metrics: z.boolean().default(false).describe('Serve /metrics without an admin token (only on a private network: metrics name tenants and models).'),
      })
      .strict()
      .prefault({})
      .describe('Metrics and traces.'),
    budgets: z
      .object({
        timezone: z.string().default('UTC').describe('IANA time zone in which daily, weekly (Monday) and monthly budget periods start.'),
      })
      .strict()
      .prefault({})
      .describe('Budget periods.'),
    redis: z
      .object({
        url: z.string().optional().describe('redis://[user:password@]host:port[/db] (or rediss:// for TLS) shared by all replicas for rate quotas and budget holds. Unset: in-process counters (one replica).'),
        key_prefix: z.string().min(1).default('omega').describe('Prefix of every key the gateway writes (a {hash tag} is added, so all keys share one Cluster slot). Distinct per deployment sharing one Redis.'),
        on_unavailable: z
          .enum(['local', 'refuse'])
          .default('local')
          .describe('When Redis stops answering: `local` enforces quotas and budgets per process (each replica may admit up to the full limit) until it answers again; `refuse` answers 503 counters_unavailable to requests with quotas or budgets. Either way the return to Redis is automatic.'),
      })
      .strict()
      .prefault({})
      .describe('Redis for counters shared across replicas.'),
    rate_limiting: z
      .object({
        max_wait: Duration.default(1000).describe('A request over a rate limit waits up to this long for capacity (smoothing spikes) before it is refused with 429.'),
      })
      .strict()
      .prefault({})
      .describe('Rate quotas.'),
    routing: z
      .object({
        initial_backoff: Duration.default(250).describe('Wait before the first retry; doubles each retry, with jitter.'),
        max_backoff: Duration.default(5000).describe('Longest wait between retries; a Retry-After longer than this moves on to the next fallback at once.'),
        max_attempts: z.number().int().positive().default(6).describe('Most upstream attempts for one request, across retries and fallbacks.'),
      })
      .strict()
      .prefault({})
      .describe('Retries and fallback.'),
    responses: z
      .object({
        store: z.boolean().default(true).describe('Keep /v1/responses results (input and output items) so that `previous_response_id`, GET and DELETE work; false stores nothing (a request with `store: true` is then answered but not kept).'),
        retention: Duration.default(30 * 86_400_000).describe('How long a stored response is kept before it is deleted (and `previous_response_id` to it answers 404).'),
      })
      .strict()
      .prefault({})
      .describe('Conversation state of the OpenAI Responses API (`/v1/responses`).'),
    alerts: z
      .object({ webhook: z.string().optional().describe('URL receiving alert and review notifications (Slack-compatible JSON).') })
      .strict()
      .default({})
      .describe('Notifications.'),
  })
  .strict();

export type GatewayConfigInput = z.input<typeof ConfigSchema>;
export type ParsedConfig = z.output<typeof ConfigSchema>;
export type ProviderConfig = z.output<typeof ProviderSchema>;
export type ModelConfig = z.output<typeof ModelSchema>;
export type DeploymentConfig = z.output<typeof DeploymentSchema>;
export type RoutingConfig = z.output<typeof ConfigSchema>['routing'];
export type McpServerConfig = z.output<typeof McpServerSchema>;
export type McpGrant = z.output<typeof McpGrantSchema>;
export type TenantConfig = z.output<typeof TenantSchema>;
export type TeamConfig = z.output<typeof TeamSchema>;
export type AgentConfig = z.output<typeof AgentSchema>;
export type { PolicyConfig } from '../policy/schema.js';
export type BudgetConfig = z.output<typeof BudgetSchema>;
export type RateLimitConfig = z.output<typeof RateLimitSchema>;
