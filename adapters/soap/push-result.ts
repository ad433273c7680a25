/**
 * The gateway's own SOAP service: legacy systems push their decisions with
 * `PushResult(systemId, caseId, receiptNo, outcome, message, decidedAt)`, SOAP 1.1 or 1.2,
 * authenticated by the WS-Security UsernameToken of the system named in `systemId`. What a result
 * means is not decided here: the arguments go to `receive` (the system's `result.map` reads them).
 */
import type { Logger } from '../../src/platform/logger';
import type { RequestOrigin } from '../../src/platform/context';
import { soapFault, type FaultParty } from './soap.faults';
import { callOf, GuardedSoapServer, type SoapHttpAnswer, type SoapHttpRequest } from './soap.server';
import { escapeXml, versionOfContentType, type SoapVersion } from './soap.wire';
import { presentedToken, UsernameTokenVerifier, type SeenNonces, type UsernameCredentials } from './wsse';

export const PUSH_RESULT_NAMESPACE = 'http://ycsl.qz.gov.cn/gateway/results/v1';

/** The PushResult arguments as they arrive: every value a string, any of them possibly missing. */
export interface PushResultArgs {
  systemId?: string;
  caseId?: string;
  receiptNo?: string;
  outcome?: string;
  message?: string;
  decidedAt?: string;
  [other: string]: unknown;
}

/** One push as its HTTP request knows it: its logger and request id, and what became of its credential. */
export interface PushCall extends RequestOrigin {
  /** Set when the UsernameToken presented for this system was refused (missing, wrong, replayed). */
  refusedFor?: string;
}

export interface PushResultHandlers {
  /** The UsernameToken `systemId` must present: undefined when there is no such system or it has none. */
  credentials(systemId: string): UsernameCredentials | undefined;
  /** Records the result; throws (answered through `faultOf`) when it cannot be recorded. */
  receive(systemId: string, args: PushResultArgs, push: PushCall): Promise<{ caseId: string; duplicate: boolean }>;
  /** The sender's fault (it will fail again) or ours (it may try again later), in words for the sender. */
  faultOf(err: unknown, push: PushCall): { party: FaultParty; message: string };
  log?: Logger;
  /** Where accepted WS-Security nonces are remembered (shared by every api process in the gateway). */
  nonces?: SeenNonces;
}

/** The WSDL of `/soap/results`, its address `location` (the URL the system reached us at). */
export function pushResultWsdl(location: string): string {
  const address = escapeXml(location);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- 衢州市一窗受理云平台 · 集成网关 · 办理结果回传服务 (document/literal; SOAP 1.1 and 1.2; WS-Security UsernameToken) -->
<wsdl:definitions name="ResultService"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="${PUSH_RESULT_NAMESPACE}"
    targetNamespace="${PUSH_RESULT_NAMESPACE}">
  <wsdl:documentation>
    Legacy systems push the decision on a case here. Authenticate with a WS-Security UsernameToken
    (PasswordText or PasswordDigest with Nonce and Created): the username and password configured
    for the system named in systemId. outcome and decidedAt are in the system's own codes and
    format; the gateway maps them with the system's result.map.
  </wsdl:documentation>
  <wsdl:types>
    <xsd:schema targetNamespace="${PUSH_RESULT_NAMESPACE}" elementFormDefault="qualified">
      <xsd:element name="PushResult">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="systemId" type="xsd:string"/>
            <xsd:element name="caseId" type="xsd:string" minOccurs="0"/>
            <xsd:element name="receiptNo" type="xsd:string" minOccurs="0"/>
            <xsd:element name="outcome" type="xsd:string"/>
            <xsd:element name="message" type="xsd:string" minOccurs="0"/>
            <xsd:element name="decidedAt" type="xsd:string" minOccurs="0"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="PushResultResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="accepted" type="xsd:boolean"/>
            <xsd:element name="caseId" type="xsd:string"/>
            <xsd:element name="duplicate" type="xsd:boolean"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="PushResultRequest"><wsdl:part name="parameters" element="tns:PushResult"/></wsdl:message>
  <wsdl:message name="PushResultResponse"><wsdl:part name="parameters" element="tns:PushResultResponse"/></wsdl:message>
  <wsdl:portType name="ResultPortType">
    <wsdl:operation name="PushResult">
      <wsdl:input message="tns:PushResultRequest"/>
      <wsdl:output message="tns:PushResultResponse"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="ResultSoap11Binding" type="tns:ResultPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="PushResult">
      <soap:operation soapAction="${PUSH_RESULT_NAMESPACE}/PushResult"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="ResultSoap12Binding" type="tns:ResultPortType">
    <soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="PushResult">
      <soap12:operation soapAction="${PUSH_RESULT_NAMESPACE}/PushResult"/>
      <wsdl:input><soap12:body use="literal"/></wsdl:input>
      <wsdl:output><soap12:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="ResultService">
    <wsdl:port name="ResultSoap11" binding="tns:ResultSoap11Binding"><soap:address location="${address}"/></wsdl:port>
    <wsdl:port name="ResultSoap12" binding="tns:ResultSoap12Binding"><soap12:address location="${address}"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}

/** A string argument, or undefined for an absent or empty one (`<message/>` parses as null). */
function argument(args: PushResultArgs, name: string): string | undefined {
  const value = args[name];
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  return value === undefined || value === null ? undefined : String(value);
}

/** `/soap/results`: one guarded soap-package server per SOAP version, chosen by the request's media type. */
export class PushResultEndpoint {
  private readonly verifier: UsernameTokenVerifier;
  private servers?: Record<SoapVersion, GuardedSoapServer>;

  private constructor(private readonly handlers: PushResultHandlers) {
    this.verifier = new UsernameTokenVerifier({ nonces: handlers.nonces });
  }

  static async create(handlers: PushResultHandlers): Promise<PushResultEndpoint> {
    const endpoint = new PushResultEndpoint(handlers);
    const make = (version: SoapVersion) => {
      const operation = (args: unknown, _callback: unknown, header: unknown, req: unknown) => endpoint.pushResult(version, args, header, (callOf(req) as PushCall | undefined) ?? {});
      return GuardedSoapServer.create({
        wsdl: pushResultWsdl('http://localhost/soap/results'),
        version,
        services: { ResultService: { ResultSoap11: { PushResult: operation }, ResultSoap12: { PushResult: operation } } },
      });
    };
    const [soap11, soap12] = await Promise.all([make('1.1'), make('1.2')]);
    endpoint.servers = { '1.1': soap11, '1.2': soap12 };
    return endpoint;
  }

  /** Answers one push; `push` is told what became of it (see PushCall). */
  handle(request: SoapHttpRequest, push: PushCall = {}): Promise<SoapHttpAnswer> {
    return this.servers![versionOfContentType(request.headers['content-type'])].handle({ ...request, call: push });
  }

  /** The operation itself; a thrown `{Fault}` is answered as that fault, in the request's version. */
  private async pushResult(version: SoapVersion, raw: unknown, header: unknown, push: PushCall): Promise<Record<string, unknown>> {
    const log = push.log ?? this.handlers.log;
    const args: PushResultArgs = raw !== null && typeof raw === 'object' ? { ...(raw as PushResultArgs) } : {};
    delete args.attributes;
    const systemId = argument(args, 'systemId');
    if (!systemId) throw soapFault(version, 'sender', 'systemId is required.');

    // An unknown system, or one without inbound credentials (it is polled, or not set up yet),
    // fails like a wrong password: a stranger learns nothing about which system ids exist.
    const expected = this.handlers.credentials(systemId);
    const token = presentedToken(header);
    if (!token) {
      push.refusedFor = systemId;
      throw soapFault(version, 'sender', 'A WS-Security UsernameToken is required.');
    }
    let verified: boolean;
    try {
      verified = expected !== undefined && (await this.verifier.verify(token, expected));
    } catch (err) {
      log?.error({ systemId, err: (err as Error)?.message }, 'SOAP PushResult: the nonce store did not answer');
      throw soapFault(version, 'receiver', 'The gateway could not check the UsernameToken right now; push it again later.');
    }
    if (!verified) {
      log?.warn({ systemId, passwordType: token.passwordType }, 'SOAP PushResult refused: bad UsernameToken');
      push.refusedFor = systemId;
      throw soapFault(version, 'sender', `Authentication failed for ${systemId}.`);
    }

    const pushed: PushResultArgs = { systemId };
    for (const name of ['caseId', 'receiptNo', 'outcome', 'message', 'decidedAt']) {
      const value = argument(args, name);
      if (value !== undefined) pushed[name] = value;
    }
    try {
      const outcome = await this.handlers.receive(systemId, pushed, push);
      return { accepted: true, caseId: outcome.caseId, duplicate: outcome.duplicate };
    } catch (err) {
      const { party, message } = this.handlers.faultOf(err, push);
      throw soapFault(version, party, message);
    }
  }
}
