/**
 * Sample cases and demo credentials for the shipped configuration: shared by the tests, and
 * meant for the demo's case generator too, so that every mapping in config/systems sees the form
 * fields it reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Case } from '../src/cases/model';

/** The shipped config folder: beside sim/ in the source tree, two levels up from dist/sim. */
const SHIPPED_CONFIG_DIR = [path.join(__dirname, '..', 'config'), path.join(__dirname, '..', '..', 'config')].find((dir) => fs.existsSync(path.join(dir, 'systems')));

/** The variable a shipped system's `result.inboundToken` names: prov-taxation → PROV_TAXATION_RESULT_TOKEN. */
export function resultTokenVar(systemId: string): string {
  return `${systemId.toUpperCase().replace(/-/g, '_')}_RESULT_TOKEN`;
}

/**
 * The shipped systems that push their results, read from their files (ids and `result.mode` only),
 * so that adding a system needs no edit here.
 */
export const SHIPPED_PUSH_SYSTEMS: readonly string[] = SHIPPED_CONFIG_DIR
  ? fs
      .readdirSync(path.join(SHIPPED_CONFIG_DIR, 'systems'))
      .filter((file) => file.endsWith('.yaml'))
      .map((file) => ({ id: file.slice(0, -'.yaml'.length), file: YAML.parse(fs.readFileSync(path.join(SHIPPED_CONFIG_DIR, 'systems', file), 'utf8')) as { result?: { mode?: string } } }))
      .filter(({ file }) => file?.result?.mode === 'push')
      .map(({ id }) => id)
      .sort()
  : [];

/**
 * The environment variables the shipped config/ references: the credentials of
 * city-housing-reform (bearer), prov-public-security (bearer) and nat-population (basic), and for
 * every push system its own inbound token (what it presents when it pushes a result; valid for that
 * system only), `<ID_IN_UPPER_SNAKE>_RESULT_TOKEN`.
 */
export const SHIPPED_ENV_VARS: readonly string[] = ['CITY_HOUSING_TOKEN', 'PROV_PUBLIC_SECURITY_TOKEN', 'NAT_POPULATION_PASSWORD', ...SHIPPED_PUSH_SYSTEMS.map(resultTokenVar)];

/** The demo (and test) inbound token of a shipped push system: one per system, never a real secret. */
export function demoResultToken(systemId: string): string {
  return `demo-${systemId}-result-token`;
}

/** Values for a demo or a test: never real secrets, no two systems alike. Variables already set in `env` win. */
export function demoEnv(env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    CITY_HOUSING_TOKEN: 'demo-city-housing-token',
    PROV_PUBLIC_SECURITY_TOKEN: 'demo-prov-public-security-token',
    NAT_POPULATION_PASSWORD: 'demo-nat-population-password',
    ...Object.fromEntries(SHIPPED_PUSH_SYSTEMS.map((id) => [resultTokenVar(id), demoResultToken(id)])),
    ...env,
  };
}

/** Every `form.*` field a shipped system mapping reads, with a plausible value. */
export const SAMPLE_FORM: Record<string, string> = {
  fwzl: '衢州市柯城区荷花街道荷花三路 12 幢 2 单元 301 室', // 房屋坐落
  gzdw: '衢州市柯城区人民政府', // 工作单位
  djlx: '200', // 登记类型: 转移登记
  bdcdyh: '330802001001GB00012F00020301', // 不动产单元号
  bdczl: '衢州市柯城区荷花三路 12 幢 2 单元 301 室', // 不动产坐落
  jzlx: 'LSJZ', // 救助类型: 临时救助
  xmmc: '衢州市智造新城标准厂房项目', // 项目名称
  xmdm: '2611-330800-04-01-123456', // 投资项目代码
  gcmc: '衢州市智造新城标准厂房人防工程', // 工程名称
  cphm: '浙H12345', // 车牌号码
  je: '200.00', // 金额
  cjlb: '2', // 残疾类别
  grzh: '330800123456789', // 公积金个人账号
  tqyy: '购买自住住房', // 提取原因
  qsdd: '衢江区乌溪江取水口', // 取水地点
  gzlx: '学历公证', // 公证类型
  cfdd: '衢州市开化县林山乡', // 采伐地点
  cxmd: '办理退休', // 查询目的
  szdz: '衢州市柯城区上街 88 号', // 设置地址
};

const SAMPLE_SHA256 = 'a3f5c8e1d2b4a6978c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e';

/** A person's case; `caseId`, `itemCode` and anything else can be overridden. */
export function samplePersonCase(overrides: Partial<Case> = {}): Case {
  return {
    caseId: 'QZ-20261128-000001',
    itemCode: '330800-FG-001',
    itemName: '出具房改核查证明',
    channel: 'window',
    submittedAt: '2026-11-28T09:30:00+08:00',
    applicant: {
      kind: 'person',
      name: '张三',
      idType: 'ID_CARD',
      idNumber: '330802199001011234',
      phone: '13800000000',
      address: '衢州市柯城区荷花街道',
    },
    materials: [
      { name: '居民身份证', kind: 'ID_CARD', uri: 'share://id/330802199001011234', sha256: SAMPLE_SHA256 },
      { name: '房屋所有权证', kind: 'PROPERTY_CERT', uri: 'share://doc/fczs-0001' },
    ],
    form: { ...SAMPLE_FORM },
    ...overrides,
  };
}

/** An organisation's case (unified social credit code as its id). */
export function sampleOrganizationCase(overrides: Partial<Case> = {}): Case {
  return samplePersonCase({
    caseId: 'QZ-20261128-000002',
    itemCode: '330000-SCJG-001',
    itemName: '企业设立登记',
    channel: 'web',
    applicant: {
      kind: 'organization',
      name: '衢州市示例科技有限公司',
      idType: 'USCC',
      idNumber: '91330800MA2XXXXX0X',
      phone: '0570-3000000',
      address: '衢州市智造新城',
    },
    materials: [{ name: '营业执照', kind: 'BUSINESS_LICENSE', uri: 'share://doc/yyzz-0001' }],
    ...overrides,
  });
}
