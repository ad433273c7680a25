/**
 * The configuration's schemas: the single source of the config types.
 * Every object is strict, so an unknown key is an error that names its path.
 */
import { DateTime } from 'luxon';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { CHARSETS } from '../platform/charset';
import { SEAL_DEFAULTS, sealSchema } from '../seal/config';
import { RETENTION_DEFAULTS, retentionSchema } from '../ledger/config';

/** Sizes such as "1mb", "512kb" or a plain byte count. */
export const byteSize = z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?\s*([bB]|[kKmMgG][bB])$/, 'a size such as 1mb or 512kb')]);

export const rateLimitSchema = z.strictObject({
  /** Deliveries allowed per `perMs` window, shared by every gateway process. */
  max: z.number().int().positive(),
  perMs: z.number().int().positive(),
});

export const retrySchema = z.strictObject({
  /** Total attempts, the first included. */
  attempts: z.number().int().min(1).max(100),
  backoff: z.strictObject({
    type: z.enum(['exponential', 'fixed']),
    delayMs: z.number().int().min(0),
    maxDelayMs: z.number().int().min(0).default(600_000),
  }),
});

export const charsetSchema = z.enum(CHARSETS);

export const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  z.strictObject({
    type: z.literal('wsse'),
    username: z.string().min(1),
    password: z.string(),
    passwordType: z.enum(['PasswordText', 'PasswordDigest']).default('PasswordText'),
  }),
  z.strictObject({ type: z.literal('hmac'), secret: z.string().min(1) }),
]);

/** The secrets of a system's credentials: never repeated in an excerpt of what the system says. */
export function secretsOf(auth: z.infer<typeof authSchema>): string[] {
  switch (auth.type) {
    case 'bearer':
      return [auth.token];
    case 'basic':
    case 'wsse':
      return [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64')];
    case 'hmac':
      return [auth.secret];
    default:
      return [];
  }
}

const hhmm = /^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
export const windowSchema = z.strictObject({
  timezone: z
    .string()
    .refine((zone) => DateTime.now().setZone(zone).isValid, 'an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
  hours: z.array(z.string().regex(hhmm, 'a range such as 08:30-17:30')).min(1),
  /** Dated exceptions: holidays closed all day, or make-up working days open. */
  exceptions: z
    .array(z.strictObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), open: z.boolean() }))
    .default([]),
});

export const circuitBreakerSchema = z.strictObject({
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: z.number().int().min(1).default(5),
  /** How long an open circuit waits before one probe delivery is let through. */
  cooldownMs: z.number().int().min(100).default(30_000),
});

export const defaultsSchema = z.strictObject({
  timeoutMs: z.number().int().positive().default(10_000),
  concurrency: z.number().int().positive().default(4),
  rateLimit: rateLimitSchema.default({ max: 20, perMs: 1000 }),
  retry: retrySchema.default({ attempts: 8, backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 600_000 } }),
  circuitBreaker: circuitBreakerSchema.default({ failureThreshold: 5, cooldownMs: 30_000 }),
});

export const limitsSchema = z.strictObject({
  /** Largest reply read from a legacy system (and WSDL fetched); a longer one is cut off and retried. */
  maxReplyBytes: byteSize.default('4mb'),
  /** Wall-clock budget of one JSONata evaluation. */
  expressionTimeMs: z.number().int().min(1).max(60_000).default(250),
  /** Deepest nesting of one JSONata evaluation (recursion included). */
  expressionDepth: z.number().int().min(10).max(10_000).default(200),
  /** Requests one caller (a token, or an address without one) may make per minute, across processes. */
  requestsPerMinute: z.number().int().min(1).default(60_000),
  /** Failed authentications one address may make per minute before it is refused for a minute. */
  failedAuthPerMinute: z.number().int().min(1).default(20),
});

/**
 * Where system endpoints may point: IPv4/IPv6 addresses or CIDR ranges (`10.0.0.0/8`), host names
 * or `*.`-globs (`*.zj.gov.cn`), each optionally with `:port` (`127.0.0.1:9100`, `[::1]:9100`).
 */
export const egressSchema = z.strictObject({
  allow: z.array(z.string().min(1)).min(1),
});

/** An address or CIDR range as express's `trust proxy` reads them. */
function isProxyAddress(entry: string): boolean {
  return entry.includes('/') ? ipaddr.isValidCIDR(entry) : ipaddr.isValid(entry);
}

/** A store id, as written in `store://<id>/<path>`. */
export const storeIdSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'lower-case letters, digits and dashes');

/**
 * A material store (材料库) of the intake platform: where a case's `store://<id>/<path>` materials
 * are fetched from, with the store's own credentials. Nothing else is ever fetched for a material.
 */
export const materialStoreSchema = z.strictObject({
  /** `store://<id>/<path>` is fetched from `<baseUrl>/<path>`; an http(s) URL under it names the same store. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** How the gateway authenticates to the store (none, bearer or basic). */
  auth: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
    z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  ]).default({ type: 'none' }),
  /** Largest material fetched from this store; a longer one is refused while it streams. */
  maxBytes: byteSize.default('512mb'),
  /** One fetch's time limit, from the request to the last byte. */
  timeoutMs: z.number().int().min(100).max(3_600_000).default(600_000),
});

export const MATERIALS_DEFAULTS = { stores: {}, cacheBytes: '2gb' } as const;

/** gateway.yaml's `materials`: the stores, and the fetched-material cache under OW_DATA_DIR. */
export const materialsGatewaySchema = z.strictObject({
  stores: z.record(storeIdSchema, materialStoreSchema).default({}),
  /** Bytes the cache of fetched materials may hold on this host; the least recently used cases' go first. */
  cacheBytes: byteSize.default(MATERIALS_DEFAULTS.cacheBytes),
});

export const gatewaySchema = z.strictObject({
  server: z
    .strictObject({
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      bodyLimit: byteSize.default('1mb'),
      /**
       * Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the caller's address, for the
       * per-address limits and the audit trail. None by default: the address is the socket's.
       */
      trustProxy: z.array(z.string().refine(isProxyAddress, 'an IP address or CIDR range, e.g. 10.0.0.0/8')).default([]),
    })
    .default({ port: 8080, bodyLimit: '1mb', trustProxy: [] }),
  redis: z.strictObject({ url: z.string().optional() }).default({}),
  intake: z
    .strictObject({ callbackUrl: z.url().optional(), callbackSecret: z.string().optional() })
    .default({}),
  defaults: defaultsSchema.default(defaultsSchema.parse({})),
  limits: limitsSchema.default(limitsSchema.parse({})),
  /** Unset: any http(s) endpoint. */
  egress: egressSchema.optional(),
  seal: sealSchema.default(SEAL_DEFAULTS),
  // Results no delivery matched are parked for ops, but within a cap per system, so
  // that a system pushing garbage with a valid token cannot fill Redis.
  unmatched: z
    .strictObject({ maxPerSystem: z.number().int().positive().default(1000), maxBytesPerSystem: byteSize.default('16mb') })
    .default({ maxPerSystem: 1000, maxBytesPerSystem: '16mb' }),
  retention: retentionSchema.default(RETENTION_DEFAULTS),
  materials: materialsGatewaySchema.default(MATERIALS_DEFAULTS),
});

/** A JSONata expression; compiled (and so checked) when the configuration loads. */
export const expression = z.string().min(1);

/**
 * The `lookup` section of a system file: this system answers shared-data look-ups
 * of `kinds`. Everything about look-ups sits in this one block; the only other rule it brings is
 * that a system with a lookup block may leave out `request`, `response` and `result`.
 */
export const lookupSchema = z.strictObject({
  /** The document kinds of config/shared-data.yaml this system holds. */
  kinds: z.array(z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes')).min(1),
  /** rest and xml: where look-ups are POSTed (the delivery endpoint is for cases). */
  endpoint: z.url().optional(),
  /** soap: an operation of the system's WSDL, on its service and port. */
  operation: z.string().min(1).optional(),
  /** JSONata on {idNumber, name, purpose, caseId, kind}: what is sent. */
  request: expression,
  response: z.strictObject({
    /** JSONata on the parsed reply: true when the record was found. */
    found: expression,
    /** JSONata on the parsed reply: the document's data (an object), sealed as it is. */
    data: expression,
    /** JSONata: true when the system says it holds no such record. */
    notFound: expression.optional(),
    /** JSONata: the system's own words when it answers neither. */
    error: expression.optional(),
  }),
  /** One look-up's time limit; the query's deadline may cut it shorter. */
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  /** Look-ups in flight to this system from one gateway process (its own sockets, apart from deliveries). */
  concurrency: z.number().int().positive().default(16),
  /** Look-ups allowed per window, across every gateway process; the system's `rateLimit` when left out. */
  rateLimit: rateLimitSchema.optional(),
});

/**
 * An optional health probe (none by default): HEAD or GET of a path on the endpoint's own origin, or
 * its WSDL, every `intervalMs` from a worker process, outside the delivery queue. Any HTTP answer
 * below 500 counts as reachable (a 401 or 405 is still the system answering).
 */
export const healthProbeSchema = z.strictObject({
  probe: z.enum(['head', 'get', 'wsdl']),
  /** A path on the endpoint's origin (never another host: credentials go only there); default the endpoint's own path, or `?wsdl`. */
  path: z.string().regex(/^\/[^\s]*$/, 'a path starting with /, on the endpoint\'s own host').optional(),
  intervalMs: z.number().int().min(100).default(30_000),
  timeoutMs: z.number().int().min(50).max(60_000).default(5000),
});

/** A JSON Pointer (RFC 6901) into the mapped body: `/a/b/0`, or `` for the body itself. */
export const jsonPointer = z.string().regex(/^(\/([^~]|~[01])*)*$/, 'a JSON Pointer such as /materials or /data/attachments');

/**
 * How a system takes a case's materials. `reference`: the mapping sees `materials` as sent (URIs).
 * `inline`: the bytes, base64, at `field` in the mapped body. `attach`: REST multipart/form-data or
 * SOAP MTOM/XOP, the body (at `field`) referring to each part.
 */
export const systemMaterialsSchema = z.strictObject({
  mode: z.enum(['reference', 'inline', 'attach']).default('reference'),
  /** The material kinds this system takes (default: every kind); the others are not sent to it. */
  kinds: z.array(z.string().min(1).max(64)).min(1).optional(),
  /** Largest material this system takes (it is refused for good beyond), below the store's own limit. */
  maxBytes: byteSize.optional(),
  /** Where in the mapped body the materials go (inline and attach). */
  field: jsonPointer.default('/materials'),
});

export const levelSchema = z.enum(['national', 'provincial', 'city']);
export const protocolSchema = z.enum(['rest', 'soap', 'xml']);

/** A system id: its file's name, its queue's and a part of Redis keys. */
export const SYSTEM_ID = /^[a-z0-9-]+$/;

/** What every system file has, whatever its protocol. */
const systemFields = {
  id: z.string().regex(SYSTEM_ID, 'lower-case letters, digits and dashes'),
  name: z.string().min(1),
  level: levelSchema,
  endpoint: z.url(),
  /** HTTP method for rest and xml deliveries. */
  method: z.enum(['POST', 'PUT']).default('POST'),
  timeoutMs: z.number().int().positive().optional(),
  charset: charsetSchema.default('utf-8'),
  auth: authSchema.default({ type: 'none' }),
  concurrency: z.number().int().positive().optional(),
  rateLimit: rateLimitSchema.optional(),
  retry: retrySchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
  window: windowSchema.optional(),
  /** Send `X-OW-Seal` with every delivery. */
  seal: z.boolean().default(true),
  /** request, response and result: required unless the system only serves look-ups (see superRefine). */
  request: z.strictObject({ body: expression }).optional(),
  response: z.strictObject({
    success: expression,
    receiptNo: expression.optional(),
    error: expression.optional(),
    retryable: expression.optional(),
  }).optional(),
  result: z
    .strictObject({
      mode: z.enum(['push', 'poll']),
      map: expression,
      /** What the system presents when it pushes: its bearer token (REST, XML) or UsernameToken password (SOAP). */
      inboundToken: z.string().min(1).optional(),
      /** The UsernameToken username of SOAP pushes (default: the system id). */
      inboundUsername: z.string().min(1).optional(),
      /** How to ask for the result when `mode: poll`. */
      poll: z
        .strictObject({
          /** May contain {caseId} and {receiptNo}, filled in (URL-encoded) per delivery. */
          endpoint: z.string().regex(/^https?:\/\/\S+$/, 'an http(s) URL, optionally with {caseId} and {receiptNo}'),
          method: z.enum(['GET', 'POST']).default('GET'),
          /** JSONata on {caseId, systemId, receiptNo}: the body of a POST poll. */
          body: expression.optional(),
          intervalMs: z.number().int().min(100).default(60_000),
          /** JSONata on the poll reply: true once the system has decided. */
          until: expression,
          /** JSONata on the poll reply giving the result; `result.map` when left out. */
          map: expression.optional(),
          /** A delivery with no result after this long ends `dead`. */
          maxAgeMs: z.number().int().min(1000).default(7 * 24 * 3600 * 1000),
        })
        .optional(),
    })
    .optional(),
  lookup: lookupSchema.optional(),
  health: healthProbeSchema.optional(),
  /** How the system takes materials; absent: `reference`, the URIs as sent. */
  materials: systemMaterialsSchema.optional(),
};

export const soapSettingsSchema = z.strictObject({
  wsdl: z.string().min(1),
  service: z.string().min(1),
  port: z.string().min(1),
  operation: z.string().min(1),
  version: z.enum(['1.1', '1.2']).default('1.1'),
});

export const xmlSettingsSchema = z.strictObject({ root: z.string().min(1) });

/** A system file: one shape per protocol, so a SOAP system always has its `soap` section, and only it. */
export const systemFileSchema = z
  .discriminatedUnion('protocol', [
    z.strictObject({ ...systemFields, protocol: z.literal('rest') }),
    z.strictObject({ ...systemFields, protocol: z.literal('soap'), soap: soapSettingsSchema }),
    z.strictObject({ ...systemFields, protocol: z.literal('xml'), xml: xmlSettingsSchema }),
  ])
  .superRefine((system, ctx) => {
    // A system receives cases unless it only answers look-ups: then it may leave the delivery keys out.
    // Checked here rather than as a union (delivering | lookup-only) inside each protocol's shape: a
    // z.union answers a missing key with `invalid_union` and one issue list per branch, where the
    // loader lists each error once by key path; a system with a lookup and only some delivery keys
    // (valid today) would fit neither branch; and no code asserts the keys (`request!`): the routing
    // and the loader refuse a lookup-only target by `system.request`, and SystemMappings compiles what
    // is there and refuses a case permanently without it. Only tests, which know their system
    // delivers, write `request!`.
    if (!system.lookup) {
      for (const key of ['request', 'response', 'result'] as const) {
        if (!system[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required (only a system with a lookup section may leave it out)' });
      }
    }
    if (system.lookup) {
      if (system.protocol === 'soap' && !system.lookup.operation) ctx.addIssue({ code: 'custom', path: ['lookup', 'operation'], message: 'required when protocol is soap' });
      if (system.protocol !== 'soap' && !system.lookup.endpoint) ctx.addIssue({ code: 'custom', path: ['lookup', 'endpoint'], message: `required when protocol is ${system.protocol}` });
      if (system.protocol !== 'soap' && system.lookup.operation) ctx.addIssue({ code: 'custom', path: ['lookup', 'operation'], message: 'only for protocol soap' });
      if (system.protocol === 'soap' && system.lookup.endpoint) ctx.addIssue({ code: 'custom', path: ['lookup', 'endpoint'], message: 'protocol soap calls lookup.operation at the system endpoint' });
    }
    // WS-Security is a SOAP header: another protocol would send the case with no credential at all.
    if (system.auth?.type === 'wsse' && system.protocol !== 'soap') ctx.addIssue({ code: 'custom', path: ['auth', 'type'], message: `wsse is a SOAP header; a ${system.protocol} system takes basic, bearer or hmac` });
    if (system.result?.mode === 'poll' && !system.result.poll) ctx.addIssue({ code: 'custom', path: ['result', 'poll'], message: 'required when result.mode is poll' });
    if (system.materials?.mode === 'attach' && system.protocol === 'xml') ctx.addIssue({ code: 'custom', path: ['materials', 'mode'], message: 'attach is multipart (rest) or MTOM (soap); an xml system takes inline or reference' });
    if (system.materials && system.materials.mode !== 'reference' && system.materials.field === '') ctx.addIssue({ code: 'custom', path: ['materials', 'field'], message: 'must point inside the body, e.g. /materials' });
    if (system.result?.mode === 'poll' && system.protocol !== 'rest') ctx.addIssue({ code: 'custom', path: ['result', 'mode'], message: 'poll is supported for rest systems' });
  });

export const routesSchema = z.strictObject({
  routes: z.array(
    z.strictObject({
      /** Glob on the case's itemCode (`*` any run of characters, `?` one). */
      itemCode: z.string().min(1),
      targets: z.array(z.string().min(1)).min(1),
    }),
  ),
  unrouted: z.string().min(1).default('reject'),
});

/** "0s", "10m", "12h", "7d": how long a shared document may be served from the cache (0s: never). */
export const cacheTtl = z.string().regex(/^\d{1,6}\s*[smhd]$/, 'a duration such as 0s, 10m or 12h');

/** config/shared-data.yaml: which systems hold which documents, which items may use them. */
export const sharedDataSchema = z.strictObject({
  documents: z
    .record(
      z.string().regex(/^[a-z0-9-]+$/, 'a kind is lower-case letters, digits and dashes'),
      z.strictObject({
        name: z.string().min(1).max(100),
        /** Asked in parallel; the first that finds the record wins. */
        sources: z.array(z.string().min(1)).min(1),
        /** Sensitive kinds stay at the default: never cached. */
        cacheTtl: cacheTtl.default('0s'),
      }),
    )
    .default({}),
  purposes: z
    .array(
      z.strictObject({
        /** Glob on the item code a query names as its purpose; the first matching entry decides. */
        itemCode: z.string().min(1),
        /** The item's name, for the seal's purpose and the watermark (办理{name}（{itemCode}）). */
        name: z.string().min(1).max(100).optional(),
        documents: z.array(z.string().min(1)).min(1),
      }),
    )
    .default([]),
});

export type GatewayFile = z.infer<typeof gatewaySchema>;
export type SharedDataFile = z.infer<typeof sharedDataSchema>;
export type Defaults = z.infer<typeof defaultsSchema>;
export type Limits = z.infer<typeof limitsSchema>;
export type Egress = z.infer<typeof egressSchema>;
export type SystemFile = z.infer<typeof systemFileSchema>;
export type RoutesFile = z.infer<typeof routesSchema>;
export type RetryPolicy = z.infer<typeof retrySchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;
export type Auth = z.infer<typeof authSchema>;
export type MaintenanceWindow = z.infer<typeof windowSchema>;
export type CircuitBreakerPolicy = z.infer<typeof circuitBreakerSchema>;
export type LookupConfig = z.infer<typeof lookupSchema>;
export type HealthProbe = z.infer<typeof healthProbeSchema>;
export type MaterialStore = z.infer<typeof materialStoreSchema>;
export type MaterialsSettings = z.infer<typeof materialsGatewaySchema>;
export type SystemMaterials = z.infer<typeof systemMaterialsSchema>;

/** A system with every default filled in: what the rest of the gateway works with. */
export type SystemConfig = SystemFile & {
  timeoutMs: number;
  concurrency: number;
  rateLimit: RateLimit;
  retry: RetryPolicy;
  circuitBreaker: CircuitBreakerPolicy;
};

export type Protocol = SystemConfig['protocol'];
/** A system of one protocol: a SOAP system has its `soap` section, an XML system its `xml` one. */
export type SystemOf<P extends Protocol> = Extract<SystemConfig, { protocol: P }>;

export function speaks<P extends Protocol>(system: SystemConfig, protocol: P): system is SystemOf<P> {
  return system.protocol === protocol;
}
