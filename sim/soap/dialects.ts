/**
 * The reply dialects of the simulated SOAP systems: what the output element of a submission
 * operation holds (its children, as the soap package's client hands them to `response.*`). As for
 * REST and XML, a system's dialect is not written in its config: it is the one whose sample replies
 * the system's own `response.*` expressions read correctly. The samples are in the parsed form the
 * gateway sees, so typed fields (xsd:boolean, xsd:int in dialect C's WSDLs) are booleans and numbers.
 */
import type { SystemConfig } from '../../src/config/schema';
import { matchDialect } from '../dialects';

export type SoapOutput = Record<string, unknown>;

export interface SoapDialect {
  name: 'SA' | 'SB' | 'SC' | 'SD';
  /** One line for people: what an accepted output looks like. */
  example: string;
  accepted(receiptNo: string): SoapOutput;
  /** A permanent business refusal, answered as a normal output (not a fault). */
  refused(message: string): SoapOutput;
  /** A refusal the system says is worth retrying, answered as a normal output. */
  retryLater(message: string): SoapOutput;
}

/** SA: `<code>0</code><msg>成功</msg><slbh>…</slbh>`; code 1 refused, 9 retry later. */
const codeMsg: SoapDialect = {
  name: 'SA',
  example: '<code>0</code><msg>成功</msg><slbh>…</slbh>',
  accepted: (receiptNo) => ({ code: '0', msg: '成功', slbh: receiptNo }),
  refused: (message) => ({ code: '1', msg: message }),
  retryLater: (message) => ({ code: '9', msg: message }),
};

/** SB: `<resultCode>00</resultCode><resultMsg>受理成功</resultMsg><acceptNo>…</acceptNo>`; 01 refused, 99 retry later. */
const resultCode: SoapDialect = {
  name: 'SB',
  example: '<resultCode>00</resultCode><resultMsg>受理成功</resultMsg><acceptNo>…</acceptNo>',
  accepted: (receiptNo) => ({ resultCode: '00', resultMsg: '受理成功', acceptNo: receiptNo }),
  refused: (message) => ({ resultCode: '01', resultMsg: message }),
  retryLater: (message) => ({ resultCode: '99', resultMsg: message }),
};

/** SC: `<success>true</success><errcode>0</errcode><errmsg/><ywlsh>…</ywlsh>` (typed); errcode 1001 refused, -1 retry later. */
const errcode: SoapDialect = {
  name: 'SC',
  example: '<success>true</success><errcode>0</errcode><errmsg/><ywlsh>…</ywlsh>',
  accepted: (receiptNo) => ({ success: true, errcode: 0, errmsg: '', ywlsh: receiptNo }),
  refused: (message) => ({ success: false, errcode: 1001, errmsg: message }),
  retryLater: (message) => ({ success: false, errcode: -1, errmsg: message }),
};

/** SD: `<head><rtnCode>000000</rtnCode><rtnMsg>成功</rtnMsg></head><body><sblsh>…</sblsh></body>`; 100001 refused, 999999 retry later. */
const headBody: SoapDialect = {
  name: 'SD',
  example: '<head><rtnCode>000000</rtnCode><rtnMsg>成功</rtnMsg></head><body><sblsh>…</sblsh></body>',
  accepted: (receiptNo) => ({ head: { rtnCode: '000000', rtnMsg: '成功' }, body: { sblsh: receiptNo } }),
  refused: (message) => ({ head: { rtnCode: '100001', rtnMsg: message }, body: {} }),
  retryLater: (message) => ({ head: { rtnCode: '999999', rtnMsg: message }, body: {} }),
};

export const SOAP_DIALECTS: readonly SoapDialect[] = [codeMsg, resultCode, errcode, headBody];

/** The dialect the system's `response` expressions read as intended (see matchDialect). */
export async function soapDialectOf(system: SystemConfig): Promise<SoapDialect> {
  return matchDialect(system, SOAP_DIALECTS, undefined, 'SOAP output dialects');
}
