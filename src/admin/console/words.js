/*
 * The console's words, in Chinese (the default) and English, and the gateway's own messages put into
 * Chinese. Loaded before console.js (and before the system page's module), it is the one place that
 * knows the page's language:
 *   - `document.documentElement.lang` is 'zh-CN' or 'en'; a change dispatches `ow:lang` on document;
 *   - the choice is remembered in localStorage ('ow.console.lang'), never anything else;
 *   - static text in index.html is written in Chinese with its English in `data-en` (and
 *     `data-en-placeholder`, `data-en-aria-label`, `data-en-title` for attributes).
 * Messages the gateway writes (delivery errors, waiting reasons, history details) follow a handful of
 * stable patterns; each is translated here. What a legacy system said itself (a SOAP fault's reason,
 * an HTTP reply's excerpt, a refusal) is kept word for word and marked as the system's. The
 * vocabulary test (test/console/vocabulary.test.ts) fails when the gateway gains a pattern, event,
 * action or error code this file does not translate.
 */
/* global document, window, localStorage, Event */
'use strict';

(function (root) {
  const LANG_KEY = 'ow.console.lang';
  const LANGS = ['zh-CN', 'en'];

  function lang() {
    return typeof document !== 'undefined' && document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
  }

  /** The text for the page's language: `L('重放', 'Replay')`. */
  function L(zh, en) {
    return lang() === 'en' ? en : zh;
  }

  /** A [zh, en] pair in the page's language. */
  const pick = (pair) => (pair ? (lang() === 'en' ? pair[1] : pair[0]) : undefined);

  // ---------------------------------------------------------------- vocabularies ([zh, en])

  const VOCAB = {
    LEVELS: { national: ['国家级', 'national'], provincial: ['省级', 'provincial'], city: ['市级', 'city'] },
    ROLES: { viewer: ['只读', 'viewer'], operator: ['操作员', 'operator'], admin: ['管理员', 'admin'] },
    DELIVERY_STATUS: {
      queued: ['排队中', 'queued'],
      delivering: ['投递中', 'delivering'],
      delivered: ['已送达', 'delivered'],
      completed: ['已办结', 'completed'],
      rejected: ['被拒绝', 'rejected'],
      dead: ['投递失败', 'dead'],
    },
    CASE_STATUS: {
      in_progress: ['办理中', 'in progress'],
      completed: ['已完成', 'completed'],
      failed: ['失败', 'failed'],
      partially_failed: ['部分失败', 'partially failed'],
    },
    CIRCUIT: { closed: ['正常', 'closed'], open: ['熔断', 'open'], half_open: ['试探中', 'half-open'] },
    OUTCOME: { approved: ['准予', 'approved'], rejected: ['不予', 'rejected'], need_more: ['需补正', 'need more'], info: ['告知', 'info'] },
    ACTIONS: {
      'system.pause': ['暂停系统', 'pause a system'],
      'system.resume': ['恢复系统', 'resume a system'],
      'system.configure': ['修改配置', 'change configuration'],
      'system.rollback': ['回滚配置', 'roll configuration back'],
      'system.reset': ['恢复文件配置', 'reset to the file'],
      'system.create': ['新增系统', 'add a system'],
      'system.remove': ['删除系统', 'remove a system'],
      'routes.configure': ['修改路由', 'change routes'],
      'routes.rollback': ['回滚路由', 'roll routes back'],
      'items.configure': ['修改事项时限', 'change the item catalogue'],
      'items.rollback': ['回滚事项时限', 'roll the item catalogue back'],
      'config.reload': ['重新加载配置目录', 'reload the configuration'],
      'config.export': ['导出配置', 'export the configuration'],
      'system.dry_run': ['试运行', 'dry-run a system'],
      'dead_letter.replay': ['重放死信', 'replay a dead letter'],
      'dead_letter.correct': ['更正办件', 'correct a case'],
      'dead_letter.discard': ['丢弃死信', 'discard a dead letter'],
      'unmatched.discard': ['丢弃未匹配结果', 'discard an unmatched result'],
      'unmatched.rematch': ['重新匹配未匹配结果', 'match an unmatched result again'],
      'auth.refused': ['拒绝访问', 'access refused'],
      'seal.verify': ['验证签章', 'verify a seal'],
      'seal.rotate': ['轮换签章密钥', 'rotate the seal key'],
      'shared-data.query': ['共享数据查询', 'shared-data look-up'],
      'material.altered': ['材料被篡改', 'material altered'],
      'ledger.retry': ['重试写入案卷库', 'ledger write retried'],
    },
    DOCUMENT_STATUS: { found: ['已找到', 'found'], not_found: ['无记录', 'not found'], error: ['出错', 'error'], timeout: ['超时', 'timeout'] },
    WAITING: {
      paused: ['系统已暂停', 'the system is paused'],
      window: ['在维护窗口外', 'outside the maintenance window'],
      circuit: ['熔断中', 'the circuit is open'],
      retry: ['等待重试（退避）', 'retry backoff'],
      rate_limit: ['限流', 'rate limit'],
    },
    EVENTS: {
      accepted: ['受理', 'accepted'],
      attempt: ['投递尝试', 'attempt'],
      delivered: ['已送达', 'delivered'],
      receipt_shared: ['回执号重复', 'receipt number shared'],
      materials: ['材料交付', 'materials handed over'],
      result: ['收到结果', 'result'],
      retry_scheduled: ['等待重试', 'retry scheduled'],
      throttled: ['对方限流', 'throttled'],
      waiting: ['等待', 'waiting'],
      rejected: ['被拒绝', 'rejected'],
      dead: ['投递失败', 'dead'],
      case_corrected: ['更正办件', 'case corrected'],
      resubmitted: ['补正后重新提交', 'resubmitted'],
      replayed: ['重放', 'replayed'],
      discarded: ['丢弃', 'discarded'],
    },
    PROBLEMS: {
      circuit_open: ['熔断', 'circuit open'],
      unreachable: ['不可达', 'unreachable'],
      paused: ['已暂停', 'paused'],
      window_closed: ['窗口外有等待', 'window closed, cases waiting'],
      failing: ['故障', 'failing'],
      dead_letters: ['有死信', 'dead letters'],
      apply_error: ['配置未生效', 'config not applied'],
    },
    ERROR_CODES: {
      invalid_json: ['请求内容不是有效的 JSON', 'the body is not valid JSON'],
      invalid_case: ['办件内容不符合规范模型', 'the case does not match the model'],
      invalid_request: ['请求内容不正确', 'the request is not valid'],
      invalid_result: ['推送的结果无法识别', 'the pushed result is not valid'],
      invalid_xml: ['XML 内容不可接受', 'the XML is not acceptable'],
      invalid_config: ['配置不正确', 'the configuration is not valid'],
      unauthorized: ['令牌无效或未提供', 'no valid token'],
      forbidden: ['此令牌的角色无权执行此操作', 'this role may not do this'],
      purpose_not_allowed: ['该用途不允许查询这些资料', 'the purpose may not use these documents'],
      purpose_mismatch: ['用途不是该办件的事项', 'the purpose is not the item of the case'],
      not_found: ['找不到该对象', 'not found'],
      unknown_case: ['没有这个办件', 'no such case'],
      unknown_system: ['没有这个业务系统', 'no such system'],
      case_conflict: ['办件编号冲突', 'case id conflict'],
      ambiguous_receipt: ['回执号对应多个未办结投递，结果已留待人工处理', 'the receipt number is held by several open deliveries'],
      receipt_mismatch: ['办件编号与回执号不属于同一投递', 'the caseId and the receipt number name different deliveries'],
      version_conflict: ['配置已被他人修改，请刷新后再试', 'the configuration changed meanwhile'],
      version_mismatch: ['配置版本已过期，请刷新后重做修改', 'the version is stale'],
      precondition_required: ['须带 If-Match（修改所基于的版本）', 'If-Match is required'],
      system_busy: ['该系统仍有投递、死信或配置引用，不能删除', 'the system is still in use; not removed'],
      payload_too_large: ['请求内容过大', 'the body is too large'],
      too_many_requests: ['请求过于频繁，请稍后再试', 'too many requests'],
      unsupported_media_type: ['请求格式不受支持', 'unsupported media type'],
      no_route: ['该事项没有配置路由', 'no route for this item'],
      internal: ['网关内部错误（已记录日志）', 'internal gateway error (logged)'],
      unavailable: ['网关暂时无法处理，请稍后再试', 'the gateway is unavailable for now'],
      unmatched_full: ['未匹配结果已达上限，该结果未保存', 'unmatched results are at their cap; not kept'],
      // The console's own, for answers that never reached the gateway or made no sense.
      network: ['无法连接网关', 'cannot reach the gateway'],
      bad_answer: ['网关的回答无法识别', 'the gateway answered something unreadable'],
    },
  };

  /** A vocabulary word in the page's language; an unknown key is shown as it came. */
  function word(vocab, key) {
    const pair = VOCAB[vocab] && Object.hasOwn(VOCAB[vocab], key) ? VOCAB[vocab][key] : undefined;
    return pair ? pick(pair) : String(key ?? '');
  }

  // ---------------------------------------------------------------- gateway messages

  const HTTP_MEANING = {
    400: '请求被拒绝',
    401: '认证失败',
    403: '禁止访问',
    404: '地址不存在',
    405: '方法不允许',
    408: '请求超时',
    409: '冲突',
    413: '请求过大',
    415: '格式不受支持',
    422: '内容无法处理',
    429: '请求过多（限流）',
    500: '对方内部错误',
    501: '功能未实现',
    502: '上游网关错误',
    503: '服务不可用',
    504: '上游网关超时',
  };

  function httpMeaning(status) {
    const n = Number(status);
    return HTTP_MEANING[n] || (n >= 500 ? '对方服务器错误' : n >= 400 ? '请求被拒绝' : '非预期的状态');
  }

  // Parts a translation is made of: text, { own } (the system's words, kept as they are),
  // { tech } (a library's or a configuration's words, kept as they are) and { time } (an instant).
  const own = (text) => ({ own: text });
  const tech = (text) => ({ tech: text });
  const time = (iso) => ({ time: iso });

  const SYS = '([^\\s:]+)';
  const re = (source) => new RegExp(`^${source}$`, 's');
  // Where a refused credential came from, when the audit entry says.
  const from = (address) => (address ? `（来自 ${address}）` : '');

  /**
   * The gateway's message patterns, tried in order (the more specific first). Each `zh` gets the
   * match and `more` (to translate an embedded message) and returns the parts of the Chinese text.
   */
  /** How materials were handed over (a delivery's `materials` history entry). */
  const HANDOVER = { reference: '以链接交付', inline: '内嵌交付', attach: '以附件交付' };

  const MESSAGES = [
    { id: 'throttled', re: re('(.+); holding (\\S+) ms'), zh: (m, more) => [...more(m[1]), `；整个队列暂停发送 ${m[2]} 毫秒`] },
    { id: 'dead_after', re: re('after (\\d+) attempts: (.+)'), zh: (m, more) => [`尝试 ${m[1]} 次后放弃：`, ...more(m[2])] },
    { id: 'stopped_by_queue', re: re('stopped by the queue: (.+)'), zh: (m) => ['被队列终止（任务多次中断）：', tech(m[1])] },
    { id: 'unreachable', re: re(`${SYS} could not be reached \\((.+)\\)`), zh: (m) => [`${m[1]} 无法连接（`, tech(m[2]), '）'] },
    { id: 'probe_refused', re: re(`${SYS}'s probe was not sent: (.+)`), zh: (m) => [`${m[1]} 的健康探测未发送：`, tech(m[2])] },
    { id: 'timeout', re: re(`${SYS} did not answer within (\\S+) ms`), zh: (m) => [`${m[1]} 在 ${m[2]} 毫秒内未应答（超时）`] },
    { id: 'reply_too_long', re: re(`${SYS} answered with more than (\\S+) bytes \\(limits\\.maxReplyBytes\\); the reply was not read`), zh: (m) => [`${m[1]} 的应答超过 ${m[2]} 字节（limits.maxReplyBytes），未读取`] },
    { id: 'http_not_json', re: re(`${SYS} answered HTTP (\\S+) with a body that is not JSON`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}，但内容不是 JSON`] },
    { id: 'http_empty_xml', re: re(`${SYS} answered HTTP (\\S+) with an empty body instead of XML`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}，内容为空（应为 XML）`] },
    { id: 'http_undecodable', re: re(`${SYS} answered HTTP (\\S+) with a body that cannot be decoded: (.*)`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}，内容无法按字符集解码：`, tech(m[3])] },
    { id: 'http_bad_xml', re: re(`${SYS} answered HTTP (\\S+) with a body that is not acceptable XML: (.*)`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}，XML 不可接受：`, tech(m[3])] },
    { id: 'http_not_soap', re: re(`${SYS} answered HTTP (\\S+) with a reply that is not SOAP \\(([^)]*)\\): (.*)`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}（${httpMeaning(m[2])}），应答不是 SOAP（${m[3]}）：`, own(m[4])] },
    { id: 'http_empty', re: re(`${SYS} answered HTTP (\\S+) with an empty body`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}（${httpMeaning(m[2])}），内容为空`] },
    { id: 'http_with', re: re(`${SYS} answered HTTP (\\S+) with (.+)`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}（${httpMeaning(m[2])}）：`, own(m[3])] },
    { id: 'http_status', re: re(`${SYS} answered HTTP (\\S+)(?:: (.*))?`), zh: (m) => [`${m[1]} 返回 HTTP ${m[2]}（${httpMeaning(m[2])}）`, m[3] ? '：' : '', m[3] ? own(m[3]) : ''] },
    { id: 'soap_fault', re: re(`${SYS} answered with a SOAP fault (.*?): (.*)`), zh: (m) => [`${m[1]} 返回 SOAP 错误 ${m[2]}：`, own(m[3])] },
    { id: 'soap_refused_unread', re: re(`${SYS} answered with a SOAP reply that was refused unread: (.*)`), zh: (m) => [`${m[1]} 的 SOAP 应答未读取即被拒绝：`, tech(m[2])] },
    { id: 'soap_unreadable', re: re(`${SYS} sent a SOAP reply that could not be read: (.*)`), zh: (m) => [`${m[1]} 的 SOAP 应答无法读取：`, tech(m[2])] },
    { id: 'soap_no_output', re: re(`${SYS} answered without a (\\S+) output`), zh: (m) => [`${m[1]} 的应答缺少 ${m[2]} 的输出`] },
    { id: 'soap_undecodable', re: re(`${SYS} answered (.+) that could not be decoded: (.*)`), zh: (m) => [`${m[1]} 的应答（`, tech(m[2]), '）无法按字符集解码：', tech(m[3])] },
    { id: 'soap_no_request', re: re(`${SYS}: the soap client wrote no request`), zh: (m) => [`${m[1]}：SOAP 客户端未生成请求`] },
    { id: 'wsdl_not_loaded', re: re(`${SYS}: the WSDL (.+?) could not be loaded: (.*)`), zh: (m) => [`${m[1]}：WSDL ${m[2]} 无法加载：`, tech(m[3])] },
    { id: 'wsdl_no_operation', re: re(`${SYS}: the WSDL has no operation (\\S+) \\(it has (.*)\\)`), zh: (m) => [`${m[1]}：WSDL 中没有操作 ${m[2]}（已有：${m[3]}）`] },
    { id: 'wsdl_http', re: re(`${SYS}: the WSDL at (.+) answered HTTP (\\S+)`), zh: (m) => [`${m[1]}：WSDL 地址 ${m[2]} 返回 HTTP ${m[3]}（${httpMeaning(m[3])}）`] },
    { id: 'wsdl_refused', re: re(`${SYS}: the WSDL at (.+) is refused unread: (.*)`), zh: (m) => [`${m[1]}：WSDL 地址 ${m[2]} 的内容未读取即被拒绝：`, tech(m[3])] },
    { id: 'soap_body_not_object', re: re(`${SYS}: request\\.body must produce an object \\(the operation's arguments\\), not (.+)`), zh: (m) => [`${m[1]}：request.body 必须生成对象（操作的参数），而不是 ${m[2]}`] },
    { id: 'xml_unwritable', re: re(`${SYS}: request body cannot be written as (\\S+) XML: (.*)`), zh: (m) => [`${m[1]}：请求内容无法写成 ${m[2]} 编码的 XML：`, tech(m[3])] },
    { id: 'xml_wsse', re: re(`${SYS}: auth type wsse \\(WS-Security\\) needs SOAP; an XML system uses none, bearer, basic or hmac`), zh: (m) => [`${m[1]}：wsse（WS-Security）认证只用于 SOAP；XML 系统只能用 none、bearer、basic 或 hmac`] },
    { id: 'header_char', re: re(`${SYS}: header (\\S+): U\\+(\\S+) cannot be sent in an HTTP header`), zh: (m) => [`${m[1]}：请求头 ${m[2]} 含有无法在 HTTP 头中发送的字符 U+${m[3]}`] },
    { id: 'soap_unwritable', re: re(`${SYS}: request\\.body cannot be written as SOAP: (.*)`), zh: (m) => [`${m[1]}：请求内容无法写成 SOAP：`, tech(m[2])] },
    { id: 'wsdl_import_outside', re: re(`${SYS}: it imports a file outside the configuration folder, which is not read`), zh: (m) => [`${m[1]}：WSDL 引用了配置目录之外的文件，不予读取`] },
    { id: 'not_fetched', re: re(`${SYS}: (\\S+) is not fetched: (.*)`), zh: (m) => [`${m[1]}：不获取 ${m[2]}：`, tech(m[3])] },
    { id: 'preview_needs_fetch', re: re(`${SYS}: the envelope cannot be previewed without fetching (\\S+), and a dry run fetches nothing; it can be once a delivery to this system has loaded it \\(a WSDL file in the configuration folder can be at any time\\)`), zh: (m) => [`${m[1]}：预览报文须先获取 ${m[2]}，而试运行不获取任何内容；待该系统的投递加载过它后即可预览（配置目录中的 WSDL 文件随时可预览）`] },
    { id: 'material_altered', re: re('material altered: materials\\[(\\S+?)\\] \\((.*?)\\) (.*)'), zh: (m) => [`材料被篡改：第 ${m[1]} 项材料（${m[2]}）`, tech(m[3])] },
    { id: 'material_store', re: re('materials\\[(\\S+?)\\] \\((.*?)\\):? (.*)'), zh: (m) => [`材料第 ${m[1]} 项（${m[2]}）：`, tech(m[3])] },
    { id: 'material_handover', re: re('(reference|inline|attach): (\\S+) materials?(?: \\((.*)\\))?'), zh: (m) => [`${HANDOVER[m[1]]}：${m[2]} 份材料`, m[3] ? '（' : '', m[3] ? tech(m[3]) : '', m[3] ? '）' : ''] },
    { id: 'materials_field', re: re(`${SYS}: materials\\.field (\\S+) does not fit the mapped body`), zh: (m) => [`${m[1]}：materials.field ${m[2]} 与映射后的报文结构不符`] },
    { id: 'materials_body', re: re(`${SYS}: request\\.body must produce an object to carry materials at (\\S+)`), zh: (m) => [`${m[1]}：request.body 必须生成对象，才能在 ${m[2]} 放入材料`] },
    { id: 'materials_soap', re: re(`${SYS}: the SOAP body does not carry material (\\S+) where materials\\.field says`), zh: (m) => [`${m[1]}：SOAP 报文中没有按 materials.field 放入第 ${m[2]} 项材料`] },
    { id: 'mapping_failed', re: re(`${SYS}: request\\.body mapping failed: (.*)`), zh: (m) => [`${m[1]}：request.body 映射失败：`, tech(m[2])] },
    { id: 'reply_unreadable', re: re(`${SYS}: reply could not be read: (.*)`), zh: (m) => [`${m[1]}：应答无法解读：`, tech(m[2])] },
    { id: 'lookups_only', re: re(`${SYS} only answers look-ups and receives no cases`), zh: (m) => [`${m[1]} 只提供查询，不接收办件`] },
    { id: 'refused_for_now', re: re(`${SYS} refused for now: (.*)`), zh: (m) => [`${m[1]} 暂时拒收（稍后重试）：`, ...said(m[2])] },
    { id: 'refused_case', re: re(`${SYS} refused the case: (.*)`), zh: (m) => [`${m[1]} 拒收该办件：`, ...said(m[2])] },
    { id: 'no_receipt', re: re(`${SYS} acknowledged without a receipt number`), zh: (m) => [`${m[1]} 确认收到，但没有给出回执号`] },
    { id: 'system_gone', re: re('system (\\S+) is no longer configured'), zh: (m) => [`业务系统 ${m[1]} 已不在配置中`] },
    { id: 'case_missing', re: re('case (\\S+) is missing from the case store'), zh: (m) => [`办件 ${m[1]} 已不在办件存储中`] },
    { id: 'window', re: re('outside the maintenance window; opens at (\\S+)'), zh: (m) => ['在维护窗口外；开放于 ', time(m[1])] },
    { id: 'circuit', re: re('circuit open after repeated failures; next probe at (\\S+)'), zh: (m) => ['连续失败后熔断；下次试探 ', time(m[1])] },
    { id: 'poll_aged_out', re: re('no result from (\\S+) within (\\S+) ms of polling'), zh: (m) => [`轮询 ${m[2]} 毫秒仍未从 ${m[1]} 得到结果`] },
    { id: 'poll_over_budget', re: re('result\\.poll expression of (\\S+) (.*)'), zh: (m) => [`${m[1]} 的 result.poll 表达式超出预算：`, tech(m[2])] },
    { id: 'unmatched_case', re: re('no delivery of case (\\S+) to (\\S+)'), zh: (m) => [`没有办件 ${m[1]} 发往 ${m[2]} 的投递`] },
    { id: 'unmatched_receipt', re: re('unknown receipt number (.+)'), zh: (m) => [`未知的回执号 ${m[1]}`] },
    { id: 'ambiguous_receipt', re: re('receipt number (.+) is held by more than one delivery \\(cases (.+)\\)'), zh: (m) => [`回执号 ${m[1]} 同时属于多个投递（办件 ${m[2]}）`] },
    { id: 'receipt_shared', re: re('receipt number (.+) is also held by the open delivery of case (\\S+): a result naming only this number is parked as ambiguous'), zh: (m) => [`回执号 ${m[1]} 也属于办件 ${m[2]} 的未办结投递：只带回执号的结果将留待人工处理`] },
    { id: 'receipt', re: re('receiptNo (.+)'), zh: (m) => [`回执号 ${m[1]}`] },
    { id: 'replayed_by', re: re('replayed by (.+?)(?:: (.*))?'), zh: (m) => [`由 ${m[1]} 重放`, m[2] ? `：${m[2]}` : ''] },
    { id: 'corrected_by', re: re('by (.+?): (.*)'), zh: (m, more) => [`由 ${m[1]} 更正：`, ...more(m[2])] },
    { id: 'discarded_by', re: re('discarded by (.+?): (.*)'), zh: (m) => [`由 ${m[1]} 丢弃：${m[2]}`] },
    // A reload's audit detail: what it added, changed, which routes version, which systems have no file.
    { id: 'reload_added', re: re('added ([^;]+)(?:; (.*))?'), zh: (m, more) => [`新增 ${m[1]}`, ...(m[2] ? ['；', ...more(m[2])] : [])] },
    { id: 'reload_changed', re: re('changed ([^;]+); (.*)'), zh: (m, more) => [`改动：${m[1]}；`, ...more(m[2])] },
    { id: 'reload_routes', re: re('routes version (\\d+)(?:; (.*))?'), zh: (m, more) => [`路由版本 ${m[1]}`, ...(m[2] ? ['；', ...more(m[2])] : [])] },
    { id: 'reload_no_file', re: re('without a file: (.+)'), zh: (m) => [`无配置文件（仍在运行）：${m[1]}`] },
    { id: 'nothing_changed', re: re('nothing changed'), zh: () => ['无改动'] },
    { id: 'changed', re: re('changed (.*)'), zh: (m) => [`改动：${m[1]}`] },
    { id: 'resubmitted', re: re('the applicant sent the completed case \\(补正\\); sent again'), zh: () => ['申请人已补正，办件重新发送'] },
    { id: 'dry_run', re: re('case (\\S+) \\(([^,)]+)(, masked)?\\), (.+)'), zh: (m, more) => [`办件 ${m[1]}（${DRY_CASES[m[2]] ?? m[2]}${m[3] ? '，已脱敏' : ''}），`, ...more(m[4])] },
    { id: 'proposed', re: re('a proposed configuration'), zh: () => ['编辑中的配置'] },
    { id: 'version', re: re('version (\\S+)'), zh: (m) => [`版本 ${m[1]}`] },
    { id: 'named_case', re: re('named case (\\S+)'), zh: (m) => [`结果所指办件 ${m[1]}`] },
    { id: 'seal_rotated', re: re('(\\S+) key (\\S+) now signs; earlier keys are retired and still verify'), zh: (m) => [`${m[1]} 密钥 ${m[2]} 开始签章；旧密钥停用，仍可验证`] },
    { id: 'role_refused', re: re('role (\\S+) may not do this(?:, from (\\S+))?'), zh: (m) => [`角色 ${m[1]} 无权执行此操作`, from(m[2])] },
    { id: 'unknown_token', re: re('unknown token(?:, from (\\S+))?'), zh: (m) => ['未知令牌', from(m[1])] },
    { id: 'no_token', re: re('no token(?:, from (\\S+))?'), zh: (m) => ['未提供令牌', from(m[1])] },
    { id: 'seal_refused', re: re('(preview|unknown_key|algorithm_mismatch|bad_signature|retired_key|validity_too_long|payload_changed|not_yet_valid|expired): (.*)'), zh: (m) => [`${SEAL_REASONS[m[1]]}：`, tech(m[2])] },
    { id: 'valid', re: re('valid'), zh: () => ['有效'] },
    { id: 'invalid', re: re('invalid'), zh: () => ['无效'] },
    // Validation details (a case, a configuration, a request refused): the loader's and schemas' own words…
    { id: 'trial_failed', re: re('fails when test-run on a sample case: (.*)'), zh: (m, more) => ['在样例办件上试运行失败：', ...more(m[1])] },
    { id: 'over_depth', re: re('ran over its budget: nested deeper than (\\S+) steps \\(limits\\.expressionDepth\\), e\\.g\\. endless recursion'), zh: (m) => [`超出预算：嵌套超过 ${m[1]} 层（limits.expressionDepth），例如无限递归`] },
    { id: 'over_time', re: re('ran over its budget: took longer than (\\S+) ms \\(limits\\.expressionTimeMs\\)'), zh: (m) => [`超出预算：运行超过 ${m[1]} 毫秒（limits.expressionTimeMs）`] },
    { id: 'over_sequence', re: re('ran over its budget: built a sequence of more than (\\S+) items'), zh: (m) => [`超出预算：生成的序列超过 ${m[1]} 项`] },
    { id: 'over_budget', re: re('ran over its budget: (.*)'), zh: (m) => ['超出预算：', tech(m[1])] },
    { id: 'bad_jsonata', re: re('invalid JSONata: (.*)'), zh: (m) => ['JSONata 表达式无效：', tech(m[1])] },
    { id: 'env_unset', re: re('environment variable (\\S+) is not set'), zh: (m) => [`环境变量 ${m[1]} 未设置`] },
    { id: 'env_in_api', re: re('\\$\\{…\\} environment references are read from configuration files only; send the value itself'), zh: () => ['${…} 环境变量引用只能写在配置文件中；请直接提交取值'] },
    { id: 'file_missing', re: re('file is missing'), zh: () => ['文件不存在'] },
    { id: 'no_config_dir', re: re('configuration folder not found \\(set OW_CONFIG_DIR\\)'), zh: () => ['找不到配置目录（请设置 OW_CONFIG_DIR）'] },
    { id: 'no_system_files', re: re('no system files'), zh: () => ['没有业务系统配置文件'] },
    { id: 'not_a_port', re: re('must be a port number'), zh: () => ['必须是端口号'] },
    { id: 'not_an_address', re: re('"(.+)" is not an address, CIDR range or host name \\(optionally with :port\\)'), zh: (m) => [`"${m[1]}" 不是地址、CIDR 网段或主机名（可带 :端口）`] },
    { id: 'unrouted', re: re('must be "reject" or a system id; unknown system "(.+)"'), zh: (m) => [`必须为 "reject" 或业务系统 ID；未知业务系统 "${m[1]}"`] },
    { id: 'kind_not_listed', re: re('system "(.+)" does not list "(.+)" in its lookup\\.kinds'), zh: (m) => [`业务系统 "${m[1]}" 的 lookup.kinds 中没有 "${m[2]}"`] },
    { id: 'unknown_kind', re: re('unknown document kind "(.+)"'), zh: (m) => [`未知的材料种类 "${m[1]}"`] },
    { id: 'soap_lookup_endpoint', re: re('protocol soap calls lookup\\.operation at the system endpoint'), zh: () => ['soap 协议在系统地址上调用 lookup.operation（不另设地址）'] },
    // … the item catalogue's and the calendar's (config/items.yaml, config/calendar/<year>.yaml) …
    { id: 'item_needs_limit', re: re('a 承诺件 \\(type 2\\) needs legalDays or promisedDays'), zh: () => ['承诺件（type 2）须有 legalDays 或 promisedDays'] },
    { id: 'item_days_not_hours', re: re('only a 即办件 \\(type 1\\) is promised in hours; use promisedDays'), zh: () => ['只有即办件（type 1）按小时承诺；请用 promisedDays'] },
    { id: 'item_hours_not_days', re: re('a 即办件 \\(type 1\\) is promised in hours \\(promisedHours\\)'), zh: () => ['即办件（type 1）按小时承诺（promisedHours）'] },
    { id: 'item_type', re: re('must be 1 \\(即办件\\) or 2 \\(承诺件\\)'), zh: () => ['必须为 1（即办件）或 2（承诺件）'] },
    { id: 'promised_over_legal', re: re('must not exceed legalDays \\((\\S+)\\)'), zh: (m) => [`不得超过法定时限 legalDays（${m[1]}）`] },
    { id: 'warn_over_limit', re: re('must be less than the limit it warns of \\((\\S+) working days\\)'), zh: (m) => [`必须小于所预警的时限（${m[1]} 个工作日）`] },
    { id: 'procedure_info_only', re: re('only with outcome info'), zh: () => ['只能随结果 info 报告'] },
    { id: 'calendar_date', re: re('a date such as 2026-10-01'), zh: () => ['须为日期，例如 2026-10-01'] },
    { id: 'calendar_not_date', re: re('not a date of the calendar'), zh: () => ['不是日历上的日期'] },
    { id: 'calendar_year', re: re("must lie in (\\S+) \\(the file's year\\)"), zh: (m) => [`必须在 ${m[1]} 年内（文件所属年份）`] },
    { id: 'calendar_weekend', re: re('is not a Saturday or Sunday: only a weekend day can be made a working day'), zh: () => ['不是周六或周日：只有周末才能调为工作日'] },
    { id: 'calendar_both', re: re('(\\S+) is also listed among the holidays'), zh: (m) => [`${m[1]} 同时列在节假日中`] },
    { id: 'calendar_twice', re: re('(\\S+) is listed twice'), zh: (m) => [`${m[1]} 重复列出`] },
    { id: 'calendar_file_name', re: re('a calendar file is named after its year, e.g\\. calendar/2026\\.yaml'), zh: () => ['日历文件以年份命名，例如 calendar/2026.yaml'] },
    { id: 'must_equal_file', re: re('must equal the file name \\((\\S+)\\)'), zh: (m) => [`必须与文件名一致（${m[1]}）`] },
    { id: 'must_stay', re: re('must stay (\\S+)'), zh: (m) => [`不可更改，必须仍为 ${m[1]}`] },
    { id: 'must_be', re: re('must be (\\S+)'), zh: (m) => [`必须为 ${m[1]}`] },
    { id: 'unknown_system', re: re('unknown system "(.+)"'), zh: (m) => [`未知业务系统 "${m[1]}"`] },
    { id: 'lookup_only_target', re: re('system "(.+)" only answers look-ups; it receives no cases'), zh: (m) => [`业务系统 "${m[1]}" 只提供查询，不接收办件`] },
    { id: 'endpoint_refused', re: re('endpoint refused: (.*)'), zh: (m) => ['地址被拒绝（egress.allow）：', tech(m[1])] },
    { id: 'store_refused', re: re('store refused: (.*)'), zh: (m) => ['材料库地址被拒绝（egress.allow）：', tech(m[1])] },
    { id: 'store_userinfo', re: re('no user name or password in the URL: use auth instead'), zh: () => ['URL 中不得含用户名或密码，请使用 auth'] },
    { id: 'store_query', re: re('a base URL without query or fragment'), zh: () => ['基础 URL 不得含查询串或片段'] },
    { id: 'materials_attach_xml', re: re('attach is multipart \\(rest\\) or MTOM \\(soap\\); an xml system takes inline or reference'), zh: () => ['attach 即 multipart（rest）或 MTOM（soap）；xml 系统只能用 inline 或 reference'] },
    { id: 'materials_field_root', re: re('must point inside the body, e.g. /materials'), zh: () => ['必须指向报文内部，例如 /materials'] },
    { id: 'required_unless_lookup', re: re('required \\(only a system with a lookup section may leave it out\\)'), zh: () => ['必填（只有带 lookup 部分的系统可以省略）'] },
    { id: 'required_when', re: re('required when (.+)'), zh: (m) => ['在以下情况必填：', tech(m[1])] },
    { id: 'only_for_soap', re: re('only for protocol soap'), zh: () => ['仅用于 soap 协议'] },
    { id: 'kept_secret_moved', re: re('is kept as (\\S+), but this version sends to (\\S+) where the stored secret never went: send the secret itself'), zh: (m) => [`保留为 ${m[1]}，但此版本发往已存密钥从未去过的 `, tech(m[2]), '：请重新填写密钥本身'] },
    { id: 'wsse_soap_only', re: re('wsse is a SOAP header; a (\\S+) system takes basic, bearer or hmac'), zh: (m) => [`wsse 是 SOAP 报头；${m[1]} 系统只能用 basic、bearer 或 hmac`] },
    { id: 'poll_rest_only', re: re('poll is supported for rest systems'), zh: () => ['只有 rest 系统支持轮询'] },
    { id: 'nested_body', re: re('nested deeper than (\\S+) levels'), zh: (m) => [`嵌套超过 ${m[1]} 层`] },
    { id: 'key_that', re: re('a key that (.*)'), zh: (m, more) => ['键', ...more(m[1])] },
    { id: 'control_char', re: re('contains the control character (U\\+\\S+)'), zh: (m) => [`含有控制字符 ${m[1]}`] },
    { id: 'lone_surrogate', re: re('contains an unpaired surrogate \\((U\\+\\S+)\\)'), zh: (m) => [`含有不成对的代理字符（${m[1]}）`] },
    { id: 'key_not_allowed', re: re('the key "(.+)" is not allowed'), zh: (m) => [`不允许使用键 "${m[1]}"`] },
    { id: 'bad_cursor', re: re('not the `next` of an earlier page'), zh: () => ['不是上一页给出的 next'] },
    { id: 'id_rule', re: re('lower-case letters, digits and dashes'), zh: () => ['只能使用小写字母、数字和连字符'] },
    { id: 'names_system', re: re('names system "(.+)"'), zh: (m) => [`引用了业务系统 "${m[1]}"`] },
    { id: 'file_still_there', re: re('the file is still in the configuration folder: remove it first \\(a reload would add the system again\\)'), zh: () => ['配置目录中仍有该系统的文件：请先删除（否则重新加载会再次添加该系统）'] },
    { id: 'in_flight', re: re('(\\d+) deliveries waiting, delayed or active'), zh: (m) => [`${m[1]} 件投递在等待、延迟或处理中`] },
    { id: 'dead_letters', re: re('(\\d+) dead letters'), zh: (m) => [`${m[1]} 封死信`] },
    { id: 'redacted_none', re: re('\\[redacted\\] keeps the secret of the version in use, and it has none here: send the value itself'), zh: () => ['[redacted] 表示沿用运行版本的密钥，但这里没有可沿用的：请直接提交取值'] },
    { id: 'header_required', re: re('required'), zh: () => ['必填'] },
    { id: 'only_star', re: re('not \\*'), zh: () => ['只能为 *'] },
    // … and zod's own English (src/config/schema.ts, the API's schemas).
    { id: 'zod_type', re: re('Invalid input: expected (\\S+), received (\\S+)'), zh: (m) => [`类型不对：应为 ${zodWord(m[1])}，实为 ${zodWord(m[2])}`] },
    { id: 'zod_literal', re: re('Invalid input: expected (.+)'), zh: (m) => [`取值不对：应为 ${m[1]}`] },
    { id: 'zod_enum', re: re('Invalid option: expected one of (.+)'), zh: (m) => [`不是可选值：应为 ${m[1]} 之一`] },
    { id: 'zod_size', re: re('Too (big|small): expected (\\S+) to have (<=|<|>=|>)?(\\S+) (\\S+)'), zh: (m) => [`${m[1] === 'big' ? '过大' : '过小'}：${zodWord(m[2])}应${BOUND[m[3] || '=']} ${m[4]} ${zodWord(m[5])}`] },
    { id: 'zod_bound', re: re('Too (big|small): expected (\\S+) to be (<=|<|>=|>)?(\\S+)'), zh: (m) => [`${m[1] === 'big' ? '过大' : '过小'}：${zodWord(m[2])}应${BOUND[m[3] || '=']} ${m[4]}`] },
    { id: 'zod_pattern', re: re('Invalid string: must match pattern (.+)'), zh: (m) => ['格式不对：须符合 ', tech(m[1])] },
    { id: 'zod_affix', re: re('Invalid string: must (start with|end with|include) (.+)'), zh: (m) => [`格式不对：须${{ 'start with': '以', 'end with': '以', include: '包含' }[m[1]]} ${m[2]}${{ 'start with': ' 开头', 'end with': ' 结尾', include: '' }[m[1]]}`] },
    { id: 'zod_multiple', re: re('Invalid number: must be a multiple of (\\S+)'), zh: (m) => [`数值须为 ${m[1]} 的倍数`] },
    { id: 'zod_keys', re: re('Unrecognized keys?: (.+)'), zh: (m) => [`不认识的键：${m[1]}`] },
    { id: 'zod_discriminator', re: re('Invalid discriminator value\\. Expected (.+)'), zh: (m) => [`类型标识不对：应为 ${m[1]}`] },
    { id: 'zod_in', re: re('Invalid (key|value) in (\\S+)'), zh: (m) => [`${zodWord(m[2])}中有无效的${m[1] === 'key' ? '键' : '值'}`] },
    { id: 'zod_input', re: re('Invalid input'), zh: () => ['输入无效'] },
    { id: 'zod_format', re: re('Invalid (.+)'), zh: (m) => [`格式无效：应为 ${m[1]}`] },
    // A result's history detail: outcome, the system's message, then the result as JSON.
    { id: 'result', re: re('(approved|rejected|need_more|info)(?:: (.*?))? (\\{.*\\})'), zh: (m) => [word('OUTCOME', m[1]), m[2] ? '：' : '', m[2] ? own(m[2]) : '', ' ', tech(m[3])] },
  ];

  /** zod's words for types, origins and units, where Chinese has its own. */
  const ZOD_WORDS = {
    string: '字符串', number: '数值', int: '整数', boolean: '布尔值', object: '对象', array: '数组', null: '空值（null）',
    undefined: '未填（undefined）', date: '日期', bigint: '大整数', set: '集合', map: '映射', file: '文件', value: '取值',
    characters: '个字符', items: '项', elements: '个元素', keys: '个键', bytes: '字节',
  };
  const zodWord = (w) => ZOD_WORDS[w] || w;
  const BOUND = { '<=': '不超过', '<': '小于', '>=': '不少于', '>': '大于', '=': '为' };

  const DRY_CASES = { stored: '已存储的办件', given: '给定的办件', sample: '示例办件' };

  const SEAL_REASONS = {
    preview: '试运行的签章预览（永远无效）',
    unknown_key: '未知签章密钥',
    algorithm_mismatch: '签章算法不符',
    bad_signature: '签名无效',
    retired_key: '签章晚于密钥停用时间',
    validity_too_long: '有效期超过配置',
    payload_changed: '内容已被改动',
    not_yet_valid: '签章尚未生效',
    expired: '签章已过期',
  };

  /** What a system said when refusing; the gateway's stand-in for silence is translated. */
  function said(text) {
    return text === 'refused without a message' ? ['未说明原因'] : [own(text)];
  }

  const INSTANT = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))/;

  /** The gateway's own instants in an English text as times, shown like every other time on the page (not raw UTC). */
  function instants(part) {
    if (typeof part !== 'string') return [part];
    return part.split(INSTANT).filter((p) => p !== '').map((p) => (INSTANT.test(p) ? time(p) : p));
  }

  /** The English message as it is, with the system's own words in it marked as in the translation. */
  function markOwn(text, translated) {
    const parts = [];
    let rest = text;
    for (const said of translated.filter((p) => p && typeof p === 'object' && p.own)) {
      // The system's words come last in every pattern that has them: the last occurrence is theirs.
      const at = rest.lastIndexOf(said.own);
      if (at < 0) continue;
      if (at > 0) parts.push(rest.slice(0, at));
      parts.push(said);
      rest = rest.slice(at + said.own.length);
    }
    if (rest) parts.push(rest);
    return parts;
  }

  /**
   * A gateway message as parts in the page's language. In English the message is the gateway's own
   * text, unchanged; in Chinese each known pattern is translated, and anything else is kept as it
   * came (`known: false`) and marked as untranslated technical text.
   */
  function gatewayParts(message) {
    if (message === undefined || message === null || message === '') return { parts: [], known: true };
    const text = String(message);
    const english = lang() === 'en';
    const translate = (t, depth) => {
      if (depth < 4) {
        for (const pattern of MESSAGES) {
          const m = pattern.re.exec(t);
          if (m) return { id: pattern.id, parts: pattern.zh(m, (inner) => translate(inner, depth + 1).parts) };
        }
      }
      return { id: undefined, parts: [tech(t)] };
    };
    const found = translate(text, 0);
    if (english) return { parts: markOwn(text, found.parts).flatMap(instants), known: found.id !== undefined, id: found.id };
    return { parts: found.parts.filter((p) => p !== ''), known: found.id !== undefined, id: found.id };
  }

  // ---------------------------------------------------------------- the page's language

  /** Static text of index.html: Chinese as written, English from data-en*; attributes likewise. */
  const ATTRS = ['placeholder', 'aria-label', 'title'];

  function applyStatic(scope) {
    const base = scope || document;
    const en = lang() === 'en';
    for (const el of base.querySelectorAll('[data-en]')) {
      if (!el.hasAttribute('data-zh')) el.setAttribute('data-zh', el.textContent);
      el.textContent = en ? el.getAttribute('data-en') : el.getAttribute('data-zh');
    }
    for (const attr of ATTRS) {
      for (const el of base.querySelectorAll(`[data-en-${attr}]`)) {
        if (!el.hasAttribute(`data-zh-${attr}`)) el.setAttribute(`data-zh-${attr}`, el.getAttribute(attr) || '');
        el.setAttribute(attr, en ? el.getAttribute(`data-en-${attr}`) : el.getAttribute(`data-zh-${attr}`));
      }
    }
  }

  function setLang(next, remember = true) {
    const chosen = LANGS.includes(next) ? next : 'zh-CN';
    const changed = document.documentElement.lang !== chosen;
    document.documentElement.lang = chosen;
    if (remember) {
      try {
        localStorage.setItem(LANG_KEY, chosen);
      } catch {
        // storage refused (private mode): the choice lasts for this page only
      }
    }
    applyStatic();
    if (changed) document.dispatchEvent(new Event('ow:lang'));
  }

  /** The remembered language, else Chinese. */
  function initialLang() {
    try {
      const stored = localStorage.getItem(LANG_KEY);
      if (LANGS.includes(stored)) return stored;
    } catch {
      // no storage: the default
    }
    return 'zh-CN';
  }

  root.OWWords = { VOCAB, MESSAGES, LANG_KEY, lang, L, pick, word, gatewayParts, httpMeaning, applyStatic, setLang, initialLang };
})(typeof window !== 'undefined' ? window : globalThis);
