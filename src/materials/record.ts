/**
 * Where Redis keeps which bytes a case's material turned out to be: one field per material of the
 * case's materials hash, named by its place *and* what the case said of it (URI, sha256, size). A
 * resubmission after 补正 may put other materials at the same places; a field named by place alone
 * would then hand over the bytes fetched for the material that was there before.
 */
import crypto from 'node:crypto';
import type { Case, CaseView, Material } from '../cases/model';

export function materialRecordField(index: number, material: Pick<Material, 'uri' | 'sha256' | 'size'>): string {
  const identity = crypto.createHash('sha256').update(`${material.uri}\n${material.sha256?.toLowerCase() ?? ''}\n${material.size ?? ''}`).digest('hex');
  return `${index}:${identity.slice(0, 16)}`;
}

/**
 * Each material of a case as ops see it: as the case gave it, or as fetched (`fetched`: the fetch
 * record, field → JSON); kind, name, size, digest and type, never its URI or bytes.
 */
export function materialsView(c: Case, fetched: Record<string, string>): NonNullable<CaseView['materials']> {
  return c.materials.map((m, i) => {
    const field = materialRecordField(i, m);
    const got = fetched[field] ? (JSON.parse(fetched[field]!) as { size: number; sha256: string; mime: string }) : undefined;
    const size = got?.size ?? m.size;
    const sha256 = got?.sha256 ?? m.sha256?.toLowerCase();
    const mime = m.mime ?? got?.mime;
    return { kind: m.kind, name: m.name, ...(size !== undefined ? { size } : {}), ...(sha256 ? { sha256 } : {}), ...(mime ? { mime } : {}), fetched: got !== undefined };
  });
}
