/**
 * An empty output element (`<SubmitCaseResponse/>`, what a spyne service sends for a None result)
 * is an output: the system answered, and `response.*` decides what the answer means.
 */
import type { RunningGateway } from '../../src/gateway';
import { caseView, eventually, sampleCase, startTestGateway, submit, writeConfig } from '../support/harness';
import { CASE_NS, addWsdls, caseServiceWsdl, soapPeer, soapSystem, type SoapPeer } from './support';

const EMPTY_OUTPUT = `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><tns:SubmitCaseResponse xmlns:tns="${CASE_NS}"/></soap:Body></soap:Envelope>`;

describe('when a SOAP system answers with an empty output element', () => {
  let peer: SoapPeer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    peer = await soapPeer({
      version: '1.1',
      submitCase: () => ({ code: '0', msg: '成功', slbh: 'SL-1' }),
      intercept: (_req, _n, res) => {
        res.status(200).type('text/xml; charset=utf-8').send(EMPTY_OUTPUT);
        return true;
      },
    });
    const dir = writeConfig(
      [
        // A system whose success is "no error code": an empty answer is an acknowledgement.
        soapSystem('prov-empty-ok', peer.url, { response: { success: '$not($exists(code)) or code = "0"', receiptNo: '"ACK-EMPTY"', error: 'msg' } }),
        soapSystem('prov-empty-refused', peer.url),
      ],
      { routes: [{ itemCode: 'EMPTY-OK-*', targets: ['prov-empty-ok'] }, { itemCode: 'EMPTY-NO-*', targets: ['prov-empty-refused'] }] },
    );
    addWsdls(dir, { 'case.wsdl': caseServiceWsdl('1.1') });
    gateway = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gateway.stop();
    await peer.close();
  });

  const settled = (caseId: string, status: string) =>
    eventually(async () => {
      const delivery = (await caseView(gateway, caseId)).body.deliveries[0];
      expect(delivery.status).toBe(status);
      return delivery;
    });

  it('then response.success reads it as an empty object and the delivery is delivered at the first attempt', async () => {
    const c = sampleCase({ itemCode: 'EMPTY-OK-1' });
    await submit(gateway, c);
    const delivery = await settled(c.caseId as string, 'delivered');
    expect(delivery.attempts).toBe(1);
  });

  it('then a configuration that wants a code refuses it for good instead of retrying it until dead', async () => {
    const c = sampleCase({ itemCode: 'EMPTY-NO-1' });
    await submit(gateway, c);
    const delivery = await settled(c.caseId as string, 'rejected');
    expect(delivery.attempts).toBe(1);
  });
});
