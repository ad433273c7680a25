/**
 * Real SOAP peers for the SOAP tests: servers from the `soap` package itself (soap.listen on an
 * express app, on port 0), a test WSDL in SOAP 1.1 or 1.2, and what each peer received.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import * as soap from 'soap';
import type { SystemSpec } from '../support/harness';

export const CASE_NS = 'http://ywxt.test.qz.gov.cn/ws/case';

/** `__proto__` and `constructor` spelled with character references: sax decodes them before node-soap sees the id. */
export const POLLUTING_IDS = ['&#95;_proto__', '&#x5f;_proto__', '&#X5F;&#x5F;proto&#95;&#95;', '&#0000095;_proto__', '&#95;&#95;&#112;&#114;&#111;&#116;&#111;&#95;&#95;', '&#99;onstructor', ' &#95;_proto__ '];

/** A document/literal case service: SubmitCase(bizNo, sqrxm, sfzh, sxbm) → (code, msg, slbh). */
export function caseServiceWsdl(version: '1.1' | '1.2', location = 'http://127.0.0.1:1/case'): string {
  const b = version === '1.2' ? 'soap12' : 'soap';
  const bindingNs = version === '1.2' ? 'http://schemas.xmlsoap.org/wsdl/soap12/' : 'http://schemas.xmlsoap.org/wsdl/soap/';
  return `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="CaseService" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:${b}="${bindingNs}"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="${CASE_NS}" targetNamespace="${CASE_NS}">
  <wsdl:types>
    <xsd:schema targetNamespace="${CASE_NS}" elementFormDefault="qualified">
      <xsd:element name="SubmitCase"><xsd:complexType><xsd:sequence>
        <xsd:element name="bizNo" type="xsd:string"/>
        <xsd:element name="sqrxm" type="xsd:string"/>
        <xsd:element name="sfzh" type="xsd:string"/>
        <xsd:element name="sxbm" type="xsd:string"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SubmitCaseResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="code" type="xsd:string"/>
        <xsd:element name="msg" type="xsd:string"/>
        <xsd:element name="slbh" type="xsd:string" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="SubmitCaseRequest"><wsdl:part name="parameters" element="tns:SubmitCase"/></wsdl:message>
  <wsdl:message name="SubmitCaseResponse"><wsdl:part name="parameters" element="tns:SubmitCaseResponse"/></wsdl:message>
  <wsdl:portType name="CasePortType"><wsdl:operation name="SubmitCase">
    <wsdl:input message="tns:SubmitCaseRequest"/><wsdl:output message="tns:SubmitCaseResponse"/>
  </wsdl:operation></wsdl:portType>
  <wsdl:binding name="CaseBinding" type="tns:CasePortType">
    <${b}:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="SubmitCase">
      <${b}:operation soapAction="${CASE_NS}/SubmitCase"/>
      <wsdl:input><${b}:body use="literal"/></wsdl:input><wsdl:output><${b}:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="CaseService"><wsdl:port name="CasePort" binding="tns:CaseBinding"><${b}:address location="${location}"/></wsdl:port></wsdl:service>
</wsdl:definitions>
`;
}

/** A SOAP system of the test case service, its WSDL at `wsdl` (a path under the config folder, or a URL). */
export function soapSystem(id: string, endpoint: string, overrides: Record<string, unknown> = {}): SystemSpec {
  return {
    id,
    name: `测试 SOAP 系统 ${id}`,
    level: 'provincial',
    protocol: 'soap',
    endpoint,
    soap: { wsdl: './wsdl/case.wsdl', service: 'CaseService', port: 'CasePort', operation: 'SubmitCase', version: '1.1' },
    timeoutMs: 2000,
    retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 20 } },
    request: { body: '{"bizNo": caseId, "sqrxm": applicant.name, "sfzh": applicant.idNumber, "sxbm": itemCode}' },
    response: { success: 'code = "0"', receiptNo: 'slbh', error: 'msg', retryable: 'code = "9"' },
    result: { mode: 'push', map: '{"caseId": caseId, "receiptNo": receiptNo, "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more"}, outcome), "message": message, "decidedAt": decidedAt}' },
    ...overrides,
  };
}

/** Writes the test WSDLs into a config folder made by writeConfig. */
export function addWsdls(configDir: string, files: Record<string, string>): void {
  fs.mkdirSync(path.join(configDir, 'wsdl'), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(configDir, 'wsdl', name), text);
}

export interface PeerRequest {
  headers: http.IncomingHttpHeaders;
  /** The body's bytes, as they came. */
  raw: Buffer;
}

export interface SoapPeer {
  /** The SOAP endpoint (its WSDL at `${url}?wsdl`). */
  url: string;
  received: PeerRequest[];
  wsdlRequests: number;
  close(): Promise<void>;
}

export interface SoapPeerOptions {
  version: '1.1' | '1.2';
  /** The SubmitCase implementation: returns the output, or throws `{Fault}`. */
  submitCase: (args: Record<string, string>, soapHeader: unknown) => unknown;
  /**
   * Sees every POST first (the n-th, from 1); answering `res` itself takes the request away from
   * the soap server (an HTML page, a GBK reply, a slow answer).
   */
  intercept?: (req: PeerRequest, n: number, res: express.Response) => boolean;
  /** The soap server's WS-Security check (`Server.authenticate`). */
  authenticate?: (security: unknown) => boolean;
}

export async function soapPeer(options: SoapPeerOptions): Promise<SoapPeer> {
  const app = express();
  const received: PeerRequest[] = [];
  let wsdlRequests = 0;
  app.use(express.raw({ type: () => true, limit: '5mb' }));
  app.use((req, res, next) => {
    if (req.method === 'GET' && 'wsdl' in req.query) wsdlRequests++;
    if (req.method !== 'POST') return next();
    const r = { headers: req.headers, raw: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) };
    received.push(r);
    if (options.intercept?.(r, received.length, res)) return;
    next();
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/case`;
  const services = { CaseService: { CasePort: { SubmitCase: (args: Record<string, string>, _cb: unknown, header: unknown) => options.submitCase(args, header) } } };
  await new Promise<void>((resolve, reject) => {
    const listener = soap.listen(app, {
      path: '/case',
      services,
      xml: caseServiceWsdl(options.version, url),
      forceSoap12Headers: options.version === '1.2',
      callback: (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
    });
    if (options.authenticate) {
      const check = options.authenticate;
      listener.authenticate = (security) => check(security);
    }
  });
  return {
    url,
    received,
    get wsdlRequests() {
      return wsdlRequests;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
