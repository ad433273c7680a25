/**
 * Where a new system starts, one template per protocol, in the shapes of the shipped systems
 * (config/systems/: city-housing-reform for REST, nat-enterprise-credit for SOAP, city-civil-affairs
 * for XML): the government dialects most legacy systems answer in, an endpoint on 127.0.0.1 that
 * ops replace, no secret (a value typed into the API is stored as typed; the comments say what to add).
 * test/console/templates.test.ts checks that each one is a valid system as it stands.
 */
export type TemplateProtocol = 'rest' | 'soap' | 'xml';

export const TEMPLATES: Readonly<Record<TemplateProtocol, string>> = {
  rest: `# A legacy system over REST (JSON), dialect: {"code":"0","msg":"成功","data":{"slbh":"…"}}
# Change id (lower-case letters, digits, dashes), name, level and endpoint, then the mappings.
id: city-new-system
name: 衢州市新业务系统
level: city                 # national | provincial | city
protocol: rest
endpoint: http://127.0.0.1:9100/sim/city-new-system/cases
auth: { type: none }        # or { type: bearer, token: … }, basic, hmac
timeoutMs: 10000
request:
  body: |
    {
      "ywh": caseId,
      "sxbm": itemCode,
      "sxmc": itemName,
      "sqrxm": applicant.name,
      "sfzh": applicant.idNumber,
      "lxdh": applicant.phone,
      "tjsj": $fromMillis($toMillis(submittedAt), "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]", "+0800")
    }
response:
  success: 'code = "0"'
  receiptNo: data.slbh
  error: msg
  retryable: 'code = "9"'
result:
  mode: push                # the system pushes its decision to /api/v1/results/<id>
  # inboundToken: …         # the bearer token it presents when it pushes
  map: |
    {
      "caseId": ywh,
      "receiptNo": slbh,
      "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more", "3": "info"}, jg),
      "message": yj,
      "decidedAt": wcsj
    }
`,
  soap: `# A legacy system over SOAP 1.1, dialect: <resultCode>00</resultCode><resultMsg>…</resultMsg><acceptNo>…</acceptNo>
# Change id, name, level, endpoint and the WSDL's service, port and operation, then the mappings.
id: prov-new-system
name: 浙江省新业务系统
level: provincial           # national | provincial | city
protocol: soap
endpoint: http://127.0.0.1:9100/sim/prov-new-system/soap
# The WSDL: a URL (fetched at the first delivery), or a file under OW_CONFIG_DIR such as ./wsdl/prov-new-system.wsdl
soap: { wsdl: "http://127.0.0.1:9100/sim/prov-new-system/soap?wsdl", service: ApplyService, port: ApplyServiceHttpSoap11Endpoint, operation: submitApply, version: "1.1" }
auth: { type: none }        # or { type: wsse, username: …, password: … }
timeoutMs: 20000
request:
  body: |
    {
      "bizNo": caseId,
      "itemCode": itemCode,
      "itemName": itemName,
      "applicantName": applicant.name,
      "certNo": applicant.idNumber,
      "applyTime": $fromMillis($toMillis(submittedAt), "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]", "+0800"),
      "extInfo": $string(form)
    }
response:
  success: 'resultCode = "00"'
  receiptNo: acceptNo
  error: resultMsg
  retryable: 'resultCode = "99"'
result:
  mode: push                # the system calls PushResult at /soap/results
  # inboundToken: …         # the UsernameToken password it presents when it pushes
  map: |
    {
      "caseId": caseId,
      "receiptNo": receiptNo,
      "outcome": $lookup({"PASS": "approved", "REFUSE": "rejected", "SUPPLEMENT": "need_more", "NOTICE": "info"}, outcome),
      "message": message,
      "decidedAt": decidedAt
    }
`,
  xml: `# A legacy system over plain XML (here in GBK), dialect: <Response><code>0</code><msg>成功</msg><data><slbh>…</slbh></data></Response>
# Change id, name, level, endpoint, charset and the root element, then the mappings.
id: city-new-xml-system
name: 衢州市新业务系统（XML）
level: city                 # national | provincial | city
protocol: xml
endpoint: http://127.0.0.1:9100/sim/city-new-xml-system/xml
charset: gbk                # utf-8, gbk, gb18030
xml: { root: Request }
auth: { type: none }        # or { type: bearer, token: … }, basic, hmac
timeoutMs: 5000
request:
  body: |
    {
      "sqbh": caseId,
      "sxbm": itemCode,
      "sxmc": itemName,
      "sqrxm": applicant.name,
      "sfzh": applicant.idNumber,
      "lxdh": applicant.phone,
      "sqsj": $fromMillis($toMillis(submittedAt), "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]", "+0800")
    }
response:
  success: 'Response.code = "0"'
  receiptNo: Response.data.slbh
  error: Response.msg
  retryable: 'Response.code = "9"'
result:
  mode: push                # the system pushes its decision to /xml/results/<id>
  # inboundToken: …         # the bearer token it presents when it pushes
  map: |
    Result.{
      "caseId": sqbh,
      "receiptNo": slbh,
      "outcome": $lookup({"1": "approved", "0": "rejected", "2": "need_more", "3": "info"}, jg),
      "message": yj,
      "decidedAt": wcsj
    }
`,
};
