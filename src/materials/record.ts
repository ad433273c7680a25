/**
 * Where Redis keeps which bytes a case's material turned out to be: one field per material of the
 * case's materials hash, named by its place *and* what the case said of it (URI, sha256, size). A
 * resubmission after 补正 may put other materials at the same places; a field named by place alone
 * would then hand over the bytes fetched for the material that was there before.
 */
import crypto from 'node:crypto';
import type { Material } from '../cases/model';

export function materialRecordField(index: number, material: Pick<Material, 'uri' | 'sha256' | 'size'>): string {
  const identity = crypto.createHash('sha256').update(`${material.uri}\n${material.sha256?.toLowerCase() ?? ''}\n${material.size ?? ''}`).digest('hex');
  return `${index}:${identity.slice(0, 16)}`;
}
