/**
 * The documents shared-data look-ups found, kept by query so that a case may name one as a material
 * (`lookup://<queryId>/<kind>`) and a delivery hand it over with the seal it was answered with. Kept
 * in Redis for `retention.hot`, as long as the case it was made for stays there.
 */
import type { RedisClient } from '../platform/redis';
import type { Seal } from '../seal';

export interface LookupDocument {
  caseId: string;
  kind: string;
  /** The document kind's name (婚姻登记信息…), the material's name when it is handed over. */
  name: string;
  source: string;
  data: Record<string, unknown>;
  watermark?: string;
  seal?: Seal;
}

export class LookupDocuments {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** How long a document is kept (retention.hot). */
    private readonly keepMs: () => number,
  ) {}

  private key(queryId: string): string {
    return `${this.prefix}:lookup-documents:${queryId}`;
  }

  /** Keeps the found documents of one look-up. */
  async keep(queryId: string, documents: LookupDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const key = this.key(queryId);
    await this.redis.multi().hset(key, Object.fromEntries(documents.map((d) => [d.kind, JSON.stringify(d)]))).pexpire(key, this.keepMs()).exec();
  }

  /** The document of `kind` the look-up found, if it did and it is still kept. */
  async get(queryId: string, kind: string): Promise<LookupDocument | undefined> {
    const text = await this.redis.hget(this.key(queryId), kind);
    return text ? (JSON.parse(text) as LookupDocument) : undefined;
  }
}

/** The bytes a look-up document travels as: its data as JSON, the payload its seal's digest covers (JCS). */
export { jcsBytes as lookupDocumentBytes } from '../seal/canonical';
