/**
 * The case in the terms of GB/T 39046-2020 (政务服务平台基础数据规范): the code tables the canonical
 * model maps to, and one case's 申请, 受理, 办理 and 办结 data items under the standard's names.
 * This table is the one place that knows the codes (docs/time-limits.md lists it).
 */
import { DateTime } from 'luxon';
import type { Case, DeliveryView } from '../cases/model';
import { TIME_ZONE } from './calendar';

/** 申报来源 / 办理形式 (table A.5): 1 窗口, 2 电脑端, 3 移动端, 4 快递, 9 其他. */
export const CHANNEL_CODES: Readonly<Record<Case['channel'], '1' | '2' | '3' | '9'>> = {
  window: '1',
  web: '2',
  mobile: '3',
  'self-service': '9',
};
export const CHANNEL_CODE_LIST = ['1', '2', '3', '9'] as const;

/**
 * 申请者证件类型代码 (GA/T 2000.156, n3), from the case's `applicant.idType`. The intake platform's
 * names and the usual Chinese ones are both understood; anything else is 990 (其他).
 */
export const ID_TYPE_CODES: Readonly<Record<string, string>> = {
  ID_CARD: '111', 居民身份证: '111',
  TEMPORARY_ID_CARD: '112', 临时居民身份证: '112',
  HOUSEHOLD_REGISTER: '113', 户口簿: '113',
  OFFICER_CARD: '114', 军官证: '114',
  PASSPORT: '414', 护照: '414',
  HK_MACAO_PERMIT: '516', 港澳居民来往内地通行证: '516',
  TAIWAN_PERMIT: '511', 台湾居民来往大陆通行证: '511',
  FOREIGNER_PERMANENT_RESIDENCE: '553', 外国人永久居留身份证: '553',
  USCC: '001', 统一社会信用代码: '001',
};
export const OTHER_ID_TYPE = '990';

export function idTypeCode(idType: string): string {
  return ID_TYPE_CODES[idType] ?? ID_TYPE_CODES[idType.toUpperCase()] ?? OTHER_ID_TYPE;
}

/** Date-times as the standard writes them: YYYYMMDDhhmmss, Asia/Shanghai. */
export function gbtDateTime(at: string | Date | undefined): string {
  if (at === undefined) return '';
  const t = typeof at === 'string' ? DateTime.fromISO(at, { setZone: true }) : DateTime.fromJSDate(at);
  return t.isValid ? t.setZone(TIME_ZONE).toFormat('yyyyMMddHHmmss') : '';
}

/** 业务动作: 通过, 退回 or 其他, from what the system decided. */
function action(d: DeliveryView): '通过' | '退回' | '其他' {
  if (d.status === 'rejected' || d.result?.outcome === 'rejected') return '退回';
  if (d.result?.outcome === 'approved') return '通过';
  return '其他';
}

/** One 办理 step: a delivery to one system. */
export interface HandlingStep {
  环节名称: string;
  环节开始时间: string;
  环节结束时间: string;
  业务动作: string;
}

/** One case as the export writes it. */
export interface GbtCaseRecord {
  办件编号: string;
  实施编码: string;
  事项名称: string;
  办件类型代码: string;
  申报来源代码: string;
  申请者名称: string;
  申请者证件类型代码: string;
  申请者证件号码: string;
  申请时间: string;
  受理时间: string;
  承诺办结时间: string;
  办理: HandlingStep[];
  办结时间: string;
  办件结果描述: string;
}

export const GBT_COLUMNS: ReadonlyArray<keyof GbtCaseRecord> = [
  '办件编号', '实施编码', '事项名称', '办件类型代码', '申报来源代码', '申请者名称', '申请者证件类型代码', '申请者证件号码',
  '申请时间', '受理时间', '承诺办结时间', '办理', '办结时间', '办件结果描述',
];

const ENDS = new Set(['result', 'rejected', 'dead', 'discarded']);

export function gbtRecord(input: { case: Case; acceptedAt: string; deliveries: readonly DeliveryView[]; type?: 1 | 2; promisedDueAt?: string; decidedAt?: string }): GbtCaseRecord {
  const c = input.case;
  const steps = input.deliveries.map((d): HandlingStep => {
    const started = d.history.find((h) => h.event === 'delivered')?.at ?? d.history.find((h) => h.event === 'accepted')?.at;
    const ended = [...d.history].reverse().find((h) => ENDS.has(h.event))?.at;
    return { 环节名称: d.systemId, 环节开始时间: gbtDateTime(started), 环节结束时间: d.status === 'completed' || d.status === 'rejected' || d.status === 'dead' ? gbtDateTime(ended) : '', 业务动作: action(d) };
  });
  const results = input.deliveries.filter((d) => d.result || d.status === 'rejected').map((d) => `${d.systemId}：${d.result?.message ?? d.result?.outcome ?? d.lastError ?? d.status}`);
  return {
    办件编号: c.caseId,
    实施编码: c.itemCode,
    事项名称: c.itemName,
    办件类型代码: input.type === undefined ? '9' : String(input.type),
    申报来源代码: CHANNEL_CODES[c.channel],
    申请者名称: c.applicant.name,
    申请者证件类型代码: idTypeCode(c.applicant.idType),
    申请者证件号码: c.applicant.idNumber,
    申请时间: gbtDateTime(c.submittedAt),
    受理时间: gbtDateTime(input.acceptedAt),
    承诺办结时间: gbtDateTime(input.promisedDueAt),
    办理: steps,
    办结时间: gbtDateTime(input.decidedAt),
    办件结果描述: input.decidedAt ? results.join('；') : '',
  };
}

/** One CSV cell: quoted when it must be; 办理 is written as its JSON. */
export function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
