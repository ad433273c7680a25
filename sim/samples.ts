/**
 * Sample cases and demo credentials for the shipped configuration: shared by the tests, and
 * meant for the demo's case generator too, so that every mapping in config/systems sees the form
 * fields it reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Case } from '../src/cases/model';
import { sampleMaterial } from './materials';

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

/** The sample ID card scan, as the simulated material store serves it (its digest checked at delivery). */
const SAMPLE_ID_CARD = sampleMaterial('id/330802199001011234.pdf');

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
      { name: '居民身份证', kind: 'ID_CARD', uri: 'store://intake/id/330802199001011234.pdf', sha256: SAMPLE_ID_CARD.sha256, size: SAMPLE_ID_CARD.size, mime: SAMPLE_ID_CARD.mime },
      { name: '房屋所有权证', kind: 'PROPERTY_CERT', uri: 'store://intake/doc/fczs-0001.pdf' },
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
    materials: [{ name: '营业执照', kind: 'BUSINESS_LICENSE', uri: 'store://intake/doc/yyzz-0001.pdf' }],
    ...overrides,
  });
}

/** A document kind of config/shared-data.yaml, as the simulated systems hold it: flat fields, every value a string. */
export type SampleRecord = Readonly<Record<string, string>>;

/** A person the simulated systems hold records of, for shared-data look-ups. */
export interface SamplePerson {
  idNumber: string;
  name: string;
  /** What the simulated systems answer, by document kind, in their own field names; a kind left out is "not found". */
  records: Readonly<Record<string, SampleRecord>>;
  /** Extra time every simulated system takes to answer a look-up about this person. */
  slowMs?: number;
  /** For people: who this sample is for. */
  note: string;
}

function identity(idNumber: string, name: string, xb: string, csrq: string, zz: string): SampleRecord {
  return { gmsfhm: idNumber, xm: name, xb, mz: '汉', csrq, zz, qfjg: '衢州市公安局柯城分局', yxqx: '20200101-20400101' };
}

/**
 * The sample people. 张三 is the applicant of samplePersonCase(); 李四 has no marriage record; 王𬇕
 * has a name outside GBK (生僻字: it travels as a character reference to GBK systems); 赵六's records
 * are slow everywhere (longer than the default 3 s deadline).
 */
export const SAMPLE_PEOPLE: readonly SamplePerson[] = [
  {
    idNumber: '330802199001011234',
    name: '张三',
    note: 'every record',
    records: {
      identity: identity('330802199001011234', '张三', '男', '19900101', '浙江省衢州市柯城区荷花街道荷花三路12幢'),
      household: { hh: '330802012345', hzxm: '张三', yhzgx: '户主', hjdz: '浙江省衢州市柯城区荷花街道荷花三路12幢2单元301室', hjdjrq: '20100315' },
      marriage: { hyzk: '已婚', poxm: '李梅', djrq: '20180520', djjg: '衢州市柯城区民政局婚姻登记处' },
      realestate: { bdcqzh: '浙(2019)衢州市不动产权第0012345号', zl: '衢州市柯城区荷花三路12幢2单元301室', jzmj: '98.56', ghyt: '住宅', djsj: '20190611' },
      'social-insurance': { cbzt: '正常参保', cbdw: '衢州市柯城区人民政府', cbrq: '20120701', ljjfys: '162' },
    },
  },
  {
    idNumber: '330802198505052345',
    name: '李四',
    note: 'no marriage record',
    records: {
      identity: identity('330802198505052345', '李四', '女', '19850505', '浙江省衢州市柯城区府山街道上街88号'),
      household: { hh: '330802054321', hzxm: '李四', yhzgx: '户主', hjdz: '浙江省衢州市柯城区府山街道上街88号', hjdjrq: '20050901' },
      realestate: { bdcqzh: '浙(2021)衢州市不动产权第0054321号', zl: '衢州市柯城区上街88号', jzmj: '76.20', ghyt: '住宅', djsj: '20210302' },
      'social-insurance': { cbzt: '正常参保', cbdw: '衢州市示例科技有限公司', cbrq: '20080101', ljjfys: '214' },
    },
  },
  {
    idNumber: '330803199203153456',
    name: '王𬇕',
    note: 'a name outside GBK (生僻字)',
    records: {
      identity: identity('330803199203153456', '王𬇕', '男', '19920315', '浙江省衢州市衢江区樟潭街道𬇕溪村'),
      household: { hh: '330803067890', hzxm: '王𬇕', yhzgx: '户主', hjdz: '浙江省衢州市衢江区樟潭街道𬇕溪村5号', hjdjrq: '19920401' },
      marriage: { hyzk: '已婚', poxm: '陈䶮', djrq: '20200808', djjg: '衢州市衢江区民政局婚姻登记处' },
      realestate: { bdcqzh: '浙(2022)衢州市衢江区不动产权第0006789号', zl: '衢州市衢江区樟潭街道𬇕溪村5号', jzmj: '132.00', ghyt: '宅基地', djsj: '20220110' },
      'social-insurance': { cbzt: '正常参保', cbdw: '衢州市衢江区农业农村局', cbrq: '20150301', ljjfys: '118' },
    },
  },
  {
    idNumber: '330822197812124567',
    name: '赵六',
    note: 'every record, slowly (4 s at every system)',
    slowMs: 4000,
    records: {
      identity: identity('330822197812124567', '赵六', '男', '19781212', '浙江省衢州市常山县天马街道'),
      household: { hh: '330822011111', hzxm: '赵六', yhzgx: '户主', hjdz: '浙江省衢州市常山县天马街道紫港路1号', hjdjrq: '19990101' },
      marriage: { hyzk: '已婚', poxm: '孙丽', djrq: '20030303', djjg: '常山县民政局婚姻登记处' },
      realestate: { bdcqzh: '浙(2010)常山县不动产权第0001111号', zl: '常山县天马街道紫港路1号', jzmj: '120.00', ghyt: '住宅', djsj: '20100808' },
      'social-insurance': { cbzt: '正常参保', cbdw: '常山县人民医院', cbrq: '20000101', ljjfys: '300' },
    },
  },
];
