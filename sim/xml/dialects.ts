/**
 * The reply dialects of the simulated XML systems: the envelopes plain-XML government systems
 * answer a submission in, each under its own root element. As for REST (sim/dialects.ts), a
 * system's dialect is not written in its config: it is the one whose sample replies the system's
 * own `response.*` expressions read correctly, after the replies went through XML and back exactly
 * as the gateway reads them (every value a string, `@name` attributes, the root element kept).
 */
import type { SystemConfig } from '../../src/config/schema';
import { encodeXmlDocument, readXml } from '../../src/platform/xml';
import { matchDialect } from '../dialects';

/** An element's content: child elements, `@attributes`, `#text`. */
export type XmlContent = { [name: string]: string | null | XmlContent };

export interface XmlDialect {
  name: string;
  root: string;
  /** One line for people: what an accepted reply looks like. */
  example: string;
  accepted(receiptNo: string): XmlContent;
  refused(message: string): XmlContent;
  retryLater(message: string): XmlContent;
  /** Sent with an HTTP 500. */
  broken(message: string): XmlContent;
}

/** `<Response><code>0</code><msg>成功</msg><data><slbh>…</slbh></data></Response>`; "1" refused, "9" retry later. */
const codeMsg: XmlDialect = {
  name: 'XA',
  root: 'Response',
  example: '<Response><code>0</code><msg>成功</msg><data><slbh>…</slbh></data></Response>',
  accepted: (receiptNo) => ({ code: '0', msg: '成功', data: { slbh: receiptNo } }),
  refused: (message) => ({ code: '1', msg: message, data: null }),
  retryLater: (message) => ({ code: '9', msg: message, data: null }),
  broken: (message) => ({ code: '500', msg: message, data: null }),
};

/** `<Result><resultCode>00</resultCode><resultMsg>受理成功</resultMsg><acceptNo>…</acceptNo></Result>`; "01" refused, "99" retry later. */
const resultCode: XmlDialect = {
  name: 'XB',
  root: 'Result',
  example: '<Result><resultCode>00</resultCode><resultMsg>受理成功</resultMsg><acceptNo>…</acceptNo></Result>',
  accepted: (receiptNo) => ({ resultCode: '00', resultMsg: '受理成功', acceptNo: receiptNo }),
  refused: (message) => ({ resultCode: '01', resultMsg: message }),
  retryLater: (message) => ({ resultCode: '99', resultMsg: message }),
  broken: (message) => ({ resultCode: '98', resultMsg: message }),
};

/** `<Reply success="true" errcode="0" errmsg=""><ywlsh>…</ywlsh></Reply>`: the verdict in attributes; 1001 refused, -1 retry later. */
const attributes: XmlDialect = {
  name: 'XC',
  root: 'Reply',
  example: '<Reply success="true" errcode="0" errmsg=""><ywlsh>…</ywlsh></Reply>',
  accepted: (receiptNo) => ({ '@success': 'true', '@errcode': '0', '@errmsg': '', ywlsh: receiptNo }),
  refused: (message) => ({ '@success': 'false', '@errcode': '1001', '@errmsg': message }),
  retryLater: (message) => ({ '@success': 'false', '@errcode': '-1', '@errmsg': message }),
  broken: (message) => ({ '@success': 'false', '@errcode': '500', '@errmsg': message }),
};

/** `<Package><Head><RtnCode>000000</RtnCode><RtnMsg>成功</RtnMsg></Head><Body><Sblsh>…</Sblsh></Body></Package>`; "100001" refused, "999999" retry later. */
const headBody: XmlDialect = {
  name: 'XD',
  root: 'Package',
  example: '<Package><Head><RtnCode>000000</RtnCode><RtnMsg>成功</RtnMsg></Head><Body><Sblsh>…</Sblsh></Body></Package>',
  accepted: (receiptNo) => ({ Head: { RtnCode: '000000', RtnMsg: '成功' }, Body: { Sblsh: receiptNo } }),
  refused: (message) => ({ Head: { RtnCode: '100001', RtnMsg: message }, Body: null }),
  retryLater: (message) => ({ Head: { RtnCode: '999999', RtnMsg: message }, Body: null }),
  broken: (message) => ({ Head: { RtnCode: '500000', RtnMsg: message }, Body: null }),
};

export const XML_DIALECTS: readonly XmlDialect[] = [codeMsg, resultCode, attributes, headBody];

/** A dialect's reply as the gateway reads it: written in UTF-8, read back by the hardened reader. */
function asRead(dialect: XmlDialect, content: XmlContent): unknown {
  return readXml(encodeXmlDocument(dialect.root, content, 'utf-8').toString('utf8'));
}

/** The dialect whose replies, as the gateway reads them, the system's expressions read as intended. */
export async function xmlDialectOf(system: SystemConfig): Promise<XmlDialect> {
  return matchDialect(system, XML_DIALECTS, asRead, 'XML reply dialects');
}
