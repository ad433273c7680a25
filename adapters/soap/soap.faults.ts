/**
 * SOAP Faults, both ways. Outbound, a legacy system's fault becomes the delivery decision: the
 * sender's fault (1.1 `Client`, 1.2 `Sender`) will be refused again, so it is permanent; the
 * receiver's (`Server`, `Receiver`) is the system's own trouble and is retried. Inbound, the
 * gateway answers faults in the version it was spoken to in.
 */
import { PermanentError, RetryableError, errorMessage } from '../../src/platform/failure';
import { maskPersonalData } from '../../src/platform/privacy';
import { parseRetryAfter } from '../http';
import { ENVELOPE_NS, escapeXml, type SoapVersion } from './soap.wire';

/** Who is at fault: the sender of the message (it will fail again) or its receiver (try later). */
export type FaultParty = 'sender' | 'receiver';

const CODE: Record<SoapVersion, Record<FaultParty, string>> = {
  '1.1': { sender: 'soap:Client', receiver: 'soap:Server' },
  '1.2': { sender: 'soap:Sender', receiver: 'soap:Receiver' },
};

/** WS-I Basic Profile: SOAP 1.1 faults travel with HTTP 500; SOAP 1.2 says 400 for the sender's. */
export function faultStatus(version: SoapVersion, party: FaultParty): number {
  return version === '1.2' && party === 'sender' ? 400 : 500;
}

/** What a soap-package service method throws to answer with a fault. */
export interface SoapFaultError {
  Fault: Record<string, unknown>;
}

export function soapFault(version: SoapVersion, party: FaultParty, message: string): SoapFaultError {
  const statusCode = faultStatus(version, party);
  if (version === '1.1') return { Fault: { faultcode: CODE['1.1'][party], faultstring: message, statusCode } };
  return { Fault: { Code: { Value: CODE['1.2'][party] }, Reason: { Text: message }, statusCode } };
}

/** A whole fault envelope, for what is refused before the soap package may look at it. */
export function faultEnvelope(version: SoapVersion, party: FaultParty, message: string): string {
  const body =
    version === '1.1'
      ? `<soap:Fault><faultcode>${CODE['1.1'][party]}</faultcode><faultstring>${escapeXml(message)}</faultstring></soap:Fault>`
      : `<soap:Fault><soap:Code><soap:Value>${CODE['1.2'][party]}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="zh-CN">${escapeXml(message)}</soap:Text></soap:Reason></soap:Fault>`;
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${ENVELOPE_NS[version]}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

type Parsed = Record<string, unknown> | undefined;

function child(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

/** An element's text as the soap package parses it: a string, or `{attributes, $value}` when it had attributes. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const inner = child(value, '$value');
  return typeof inner === 'string' ? inner : undefined;
}

export interface ReadFault {
  /** The fault code as sent, e.g. `soap:Client`, `soap:Sender / app:Busy`. */
  code: string;
  /** The code's local name without a dotted refinement: Client, Server, Sender, Receiver, VersionMismatch… */
  kind: string;
  reason: string;
}

/** The fault a reply carried, from the envelope object the soap package attaches to its error. */
export function readFault(envelopeRoot: unknown): ReadFault | undefined {
  const fault = child(child(child(envelopeRoot, 'Envelope'), 'Body'), 'Fault') as Parsed;
  if (!fault) return undefined;
  const code11 = text(fault.faultcode);
  const code12 = text(child(fault.Code, 'Value'));
  const subcode = text(child(child(fault.Code, 'Subcode'), 'Value'));
  const code = code11 ?? code12 ?? '';
  const kind = (code.split(':').pop() ?? '').split('.')[0];
  const reason = text(fault.faultstring) ?? text(child(fault.Reason, 'Text')) ?? '(no reason given)';
  return { code: subcode ? `${code} / ${subcode}` : code, kind, reason };
}

/** The sender's faults that say our message itself cannot be processed as sent. */
const SENDER_KINDS = new Set(['Client', 'Sender', 'VersionMismatch', 'MustUnderstand', 'DataEncodingUnknown']);

interface SoapPackageError {
  root?: unknown;
  response?: { headers?: Record<string, unknown> };
  Fault?: { faultstring?: unknown; detail?: unknown };
}

/**
 * The one decision for whatever a SOAP call failed with: our own RetryableError / PermanentError
 * pass through; a fault is classified by its code; anything else the soap package threw (a reply
 * it could not read) is retried.
 */
export function classifySoapError(systemId: string, err: unknown, secrets: readonly string[] = []): RetryableError | PermanentError {
  if (err instanceof RetryableError || err instanceof PermanentError) return err;
  const e = (err ?? {}) as SoapPackageError;
  const fault = readFault(e.root);
  if (fault) {
    // The system's words may echo the request: masked where the message is made.
    const what = `${systemId} answered with a SOAP fault ${fault.code}: ${maskPersonalData(fault.reason.slice(0, 500), secrets)}`;
    if (SENDER_KINDS.has(fault.kind)) return new PermanentError(what, { cause: err });
    return new RetryableError(what, parseRetryAfter(e.response?.headers?.['retry-after']), { cause: err });
  }
  // The soap package throws `{Fault: {faultstring: "Invalid XML", detail}}` for XML its parser chokes on.
  const message = e.Fault ? `${text(e.Fault.faultstring) ?? 'invalid XML'}: ${text(e.Fault.detail) ?? ''}` : errorMessage(err);
  return new RetryableError(`${systemId} sent a SOAP reply that could not be read: ${message.split('\n')[0]}`, undefined, { cause: err });
}
