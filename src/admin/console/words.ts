/**
 * The console's one word table, in Chinese (the default) and English: the page's own words (WORDS),
 * the gateway's vocabularies (VOCAB: levels, roles, states, events, audit actions, error codes…) and
 * the gateway's messages put into Chinese (MESSAGES).
 *
 * Messages the gateway writes (delivery errors, waiting reasons, history details, validation details)
 * follow stable patterns; each is translated here. What a legacy system said itself (a SOAP fault's
 * reason, an HTTP reply's excerpt, a refusal) is kept word for word and marked as the system's. The
 * vocabulary test (test/console/vocabulary.test.ts) fails when the gateway gains a pattern, event,
 * action or error code this table does not translate, or a word lacks its other language.
 *
 * No DOM here: every function takes the language, so the tests run this module as the browser does.
 * The page's current language and `t()` are in language.ts.
 */

export type Lang = 'zh-CN' | 'en';
/** A word in both languages: [Chinese, English]. */
export type Pair = readonly [zh: string, en: string];

const pick = (pair: Pair, lang: Lang): string => (lang === 'en' ? pair[1] : pair[0]);

// ---------------------------------------------------------------- vocabularies ([zh, en])

export const VOCAB = {
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
    'config.reload': ['重新加载配置目录', 'reload the configuration'],
    'config.export': ['导出配置', 'export the configuration'],
    'items.configure': ['修改事项时限', 'change the item catalogue'],
    'items.rollback': ['回滚事项时限', 'roll the item catalogue back'],
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
} as const satisfies Record<string, Record<string, Pair>>;

export type Vocab = keyof typeof VOCAB;

/** A vocabulary word in `lang`; an unknown key is shown as it came. */
export function word(vocab: Vocab, key: string | undefined, lang: Lang): string {
  const words: Readonly<Record<string, Pair>> = VOCAB[vocab];
  return key !== undefined && Object.hasOwn(words, key) ? pick(words[key]!, lang) : String(key ?? '');
}

// ---------------------------------------------------------------- the page's words ([zh, en], `{name}` filled in)

export const WORDS = {
  // The page and signing in
  pageTitle: ['一窗受理网关 · 运维控制台', 'OneWindow Gateway · Ops console'],
  skipToContent: ['跳到主要内容', 'Skip to content'],
  brand: ['一窗受理网关', 'OneWindow Gateway'],
  brandSub: ['运维控制台 · 衢州市一窗受理云平台', 'Ops console · Quzhou one-window intake platform'],
  operatorLabel: ['值班人员：', 'Operator:'],
  roleLabel: ['角色：', 'Role:'],
  signOut: ['退出 / 更换令牌', 'Sign out'],
  signedOut: ['已退出。', 'Signed out.'],
  wall: ['大屏', 'Wall screen'],
  wallTitle: ['大屏显示（放大字号）', 'Large type for a wall screen'],
  // Names the other language, in that language.
  switchLanguage: ['Switch to English', '切换为中文'],
  signIn: ['登录', 'Sign in'],
  signInExplained: [
    '请输入运维令牌（管理员 OW_OPS_TOKEN、操作员 OW_OPERATOR_TOKEN 或只读 OW_VIEWER_TOKEN）。令牌只保存在本浏览器标签页中（sessionStorage），关闭标签页即清除。',
    'Enter an ops token (admin OW_OPS_TOKEN, operator OW_OPERATOR_TOKEN or read-only OW_VIEWER_TOKEN). It stays in this browser tab only (sessionStorage) and is gone when the tab closes.',
  ],
  opsToken: ['运维令牌', 'Ops token'],
  yourName: ['您的姓名', 'Your name'],
  forTheAuditTrail: ['（写入审计记录）', '(for the audit trail)'],
  nameExample: ['例如：值班员 张三', 'e.g. on-call Zhang San'],
  enter: ['进入控制台', 'Enter'],
  enterToken: ['请输入运维令牌。', 'Enter the ops token.'],
  enterName: ['请输入您的姓名（用于审计记录）。', 'Enter your name (for the audit trail).'],
  enterTokenFirst: ['请先输入运维令牌。', 'Enter the ops token first.'],
  checking: ['正在验证…', 'Checking…'],
  tokenRefused: ['令牌无效或已更换，请重新输入。', 'The token was refused; enter it again.'],
  notOpsToken: ['此令牌不是运维令牌（可能是受理平台的令牌）。', 'This token may not use the ops API.'],
  signedIn: ['已登录', 'Signed in'],
  welcome: ['{name}（{role}），欢迎。', '{name} ({role}), welcome.'],
  sections: ['功能', 'Sections'],
  tabSystems: ['业务系统', 'Systems'],
  tabDead: ['死信', 'Dead letters'],
  tabCase: ['办件查询', 'Case lookup'],
  tabAudit: ['审计记录', 'Audit'],
  tabUnmatched: ['未匹配结果', 'Unmatched'],
  tabLookups: ['查询记录', 'Look-ups'],
  tabRoutes: ['路由', 'Routes'],
  tabReports: ['报表', 'Reports'],

  // Shared: buttons, columns, errors, toasts, the reason dialog, paging, times
  all: ['全部', 'all'],
  search: ['查询', 'Search'],
  refresh: ['刷新', 'Refresh'],
  show: ['查看', 'Show'],
  close: ['关闭', 'Close'],
  ok: ['确定', 'OK'],
  cancel: ['取消', 'Cancel'],
  clear: ['清除筛选', 'Clear'],
  action: ['操作', 'Action'],
  system: ['系统', 'System'],
  level: ['级别', 'Level'],
  case: ['办件编号', 'Case'],
  caseId: ['办件编号', 'caseId'],
  reason: ['原因', 'Reason'],
  at: ['时间', 'At'],
  who: ['操作人', 'Who'],
  none: ['（无）', '(none)'],
  unknownError: ['未知错误', 'unknown error'],
  statusAndCode: ['（{status}，{code}）', ' ({status}, {code})'],
  // The gateway's own text of an API error is English: in Chinese it follows as the original.
  gatewaySaid: ['网关原文：{message}', '{message}'],
  systemsOwnWords: ['业务系统原话', 'the system’s own words'],
  listSeparator: ['，', ', '],
  enumerationComma: ['、', ', '],
  reasonRequired: ['原因（必填）', 'Reason (required)'],
  reasonOptional: ['原因（可选，写入审计记录）', 'Reason (optional, audited)'],
  reasonRequiredExample: ['例如：申请人已撤回', 'e.g. the applicant withdrew'],
  reasonOptionalExample: ['例如：系统升级维护', 'e.g. system upgrade'],
  reasonNeeded: ['请填写原因。', 'A reason is required.'],
  firstPage: ['第一页', 'First page'],
  previousPage: ['上一页', 'Previous'],
  nextPage: ['下一页', 'Next page'],
  pageOf: ['第 {page} 页，本页 {count} 条', 'page {page}, {count} here'],
  pageOfMore: ['第 {page} 页，本页 {count} 条，后面还有', 'page {page}, {count} here, more after'],
  days: ['{n} 天', '{n} d'],
  hours: ['{n} 小时', '{n} h'],
  minutes: ['{n} 分', '{n} min'],
  seconds: ['{n} 秒', '{n} s'],
  inFuture: ['（{span}后）', ' (in {span})'],
  inPast: ['（{span}前）', ' ({span} ago)'],

  // The systems board
  legacySystems: ['业务系统', 'Legacy systems'],
  filter: ['筛选', 'Filter'],
  idOrName: ['系统 ID 或名称', 'id or name'],
  autoRefresh: ['每 5 秒自动刷新', 'auto-refresh every 5 s'],
  systemsCaption: ['业务系统及其投递队列', 'Systems and their delivery queues'],
  protocol: ['协议', 'Protocol'],
  state: ['状态', 'State'],
  health: ['健康状况', 'Health'],
  waiting: ['等待', 'Waiting'],
  active: ['处理中', 'Active'],
  retrying: ['等待重试', 'Retrying'],
  deadLetters: ['死信', 'Dead letters'],
  systemsCountBefore: ['共 ', ''],
  systemsCountAfter: [' 个系统', ' systems'],
  waitingCount: ['等待 ', 'waiting '],
  showingOnly: ['仅显示：{problem}', 'showing only: {problem}'],
  updatedAt: ['更新于 {at}', 'Updated {at}'],
  refreshFailedTitle: ['刷新失败', 'Refresh failed'],
  refreshFailed: ['刷新失败: {why}', 'Refresh failed: {why}'],
  refreshFailedSince: ['刷新失败: {why}（上次成功 {at}）', 'Refresh failed: {why} (last ok {at})'],
  systemsFailed: ['读取系统列表失败', 'Could not load systems'],
  failuresInARow: ['连续失败 {n} 次', '{n} failures in a row'],
  nextProbe: ['下次试探 ', 'next probe '],
  noProbeWhilePaused: ['暂停中不试探，恢复后才会试探', 'no probe while paused; one follows the resume'],
  outsideWindowOpens: ['维护窗口外，开放于 ', 'outside the window; opens '],
  unreachableSince: ['不可达，自 ', 'unreachable since '],
  failingSince: ['故障自 ', 'failing since '],
  lastErrorColon: ['最后错误：', 'last error: '],
  lastSuccess: ['最近成功 ', 'last success '],
  lastSuccessNever: ['最近成功：从未', 'last success: never'],
  oldestWaiting: ['最早一件已等待 {span}', 'oldest waiting for {span}'],
  notAppliedOn: ['配置版本 {version} 未在 {n} 个进程生效', 'version {version} not applied on {n} process(es)'],
  noProblem: ['无异常', 'no problem'],
  showItsDeadLetters: ['查看该系统的死信', 'Show its dead letters'],
  systemNamed: ['{name}（{id}）', '{name} ({id})'],
  pauseExplained: ['暂停后，发往该系统的投递继续排队，但不会发送，直到恢复。', 'Deliveries keep queueing; nothing is sent until resumed.'],
  resumeExplained: ['恢复后，排队中的投递会立即开始发送。', 'Queued deliveries start going out.'],
  pauseFailed: ['暂停失败', 'Pause failed'],
  resumeFailed: ['恢复失败', 'Resume failed'],
  pausedTitle: ['已暂停', 'Paused'],
  resumedTitle: ['已恢复', 'Resumed'],
  addSystem: ['新增系统…', 'Add a system…'],

  // Dead letters
  deadLettersHint: ['重试次数用尽的投递。重放会以相同幂等键重新排队。', 'Deliveries whose attempts ran out. A replay queues them again with the same Idempotency-Key.'],
  deadLettersCaption: ['死信列表', 'Dead letters'],
  errorContains: ['错误包含', 'Error contains'],
  errorContainsExample: ['例如：could not be reached', 'e.g. could not be reached'],
  everySystemNoFilter: ['全部系统（不筛选）', 'every system, no filter'],
  replayMatching: ['批量重放…', 'Replay matching…'],
  attempts: ['尝试', 'Attempts'],
  lastError: ['最后错误', 'Last error'],
  failedAt: ['失败时间', 'Failed at'],
  noDeadLetters: ['没有死信。', 'No dead letters.'],
  deadLettersFailed: ['读取死信失败', 'Could not load dead letters'],
  replay: ['重放', 'Replay'],
  replayDeadLetter: ['重放死信', 'Replay'],
  replayExplained: ['重新排队，重新计算尝试次数，幂等键不变。', 'Queued again with fresh attempts and the same Idempotency-Key.'],
  replayFailed: ['重放失败', 'Replay failed'],
  replayed: ['已重放', 'Replayed'],
  discard: ['丢弃', 'Discard'],
  discardDeadLetter: ['丢弃死信', 'Discard'],
  discardExplained: ['丢弃后不再投递，该投递保持“投递失败”状态，原因记入办件历史和审计记录。', 'It is never delivered; the delivery stays dead and the reason is kept.'],
  discardFailed: ['丢弃失败', 'Discard failed'],
  discarded: ['已丢弃', 'Discarded'],
  chooseScope: ['请先选择范围', 'Choose what to replay'],
  chooseScopeExplained: ['选择系统或填写“错误包含”，或勾选“全部系统”。不会在没有范围的情况下重放全部死信。', 'Pick a system or an error text, or tick “every system”. Nothing is replayed without a scope.'],
  countFailed: ['统计失败', 'Count failed'],
  nothingMatches: ['没有匹配的死信', 'Nothing matches'],
  nothingMatchesExplained: ['该范围内没有死信，未重放任何内容。', 'No dead letter in this scope; nothing replayed.'],
  everySystemScope: ['全部系统', 'every system'],
  scopeSystem: ['系统 = {id}', 'system = {id}'],
  scopeError: ['错误包含“{text}”', 'error contains “{text}”'],
  replayManyTitle: ['批量重放 {n} 条死信', 'Replay {n} dead letter(s)'],
  replayManyText: ['范围：{scope}。共 {n} 条将重新排队（幂等键不变）。', 'Scope: {scope}. {n} will be queued again (same Idempotency-Keys).'],
  replayN: ['重放 {n} 条', 'Replay {n}'],
  replayManyFailed: ['批量重放失败', 'Bulk replay failed'],
  replayedMany: ['已批量重放', 'Replayed'],
  replayedManyText: ['共 {n} 条重新排队。', '{n} queued again.'],

  // Correcting a dead letter's case
  correctAndReplayShort: ['更正后重放', 'Correct & replay'],
  correctAndReplay: ['更正后重放', 'Correct and replay'],
  correctAndReplayButton: ['更正并重放', 'Correct and replay'],
  correctHint: [
    '以 JSON 编辑办件内容。办件编号和幂等键不变；网关按受理时的规则校验，并在审计记录中记下改动的字段。',
    'Edit the case as JSON. The caseId and Idempotency-Key stay the same; the API validates the case as intake does and audits the changed paths.',
  ],
  caseJson: ['办件内容（JSON）', 'Case (JSON)'],
  changes: ['改动', 'Changes'],
  caseLoadFailed: ['读取办件失败', 'Could not load the case'],
  notValidJson: ['不是有效的 JSON：', 'Not valid JSON: '],
  noChangeYet: ['尚无改动。', 'No change yet.'],
  nothingChanged: ['没有改动：不需要更正就请直接重放。', 'Nothing changed: replay it without correcting.'],
  correctedAndReplayed: ['已更正并重放', 'Corrected and replayed'],
  correctionRefused: ['网关拒绝了这次更正，未做任何改动：', 'The gateway refused the correction; nothing changed:'],

  // A case
  caseLookup: ['办件查询', 'Case lookup'],
  lookUp: ['查询', 'Look up'],
  openTheCase: ['查看办件', 'Open the case'],
  enterCaseId: ['请输入办件编号。', 'Enter a caseId.'],
  lookingUp: ['查询中…', 'Looking up…'],
  noSuchCase: ['没有找到办件“{caseId}”。', 'No case “{caseId}”.'],
  lookupFailed: ['查询失败', 'Lookup failed'],
  caseWord: ['办件', 'Case'],
  itemCode: ['事项编码', 'itemCode'],
  status: ['状态', 'Status'],
  acceptedAt: ['受理时间', 'Accepted'],
  attemptCount: ['尝试次数', 'Attempts'],
  receipt: ['回执号', 'Receipt'],
  result: ['办理结果', 'Result'],
  timeline: ['时间线', 'Timeline'],
  deliveryTimeline: ['投递时间线', 'Delivery timeline'],
  whyItWaits: ['为何等待：', 'Why it waits: '],
  waitsForResume: ['：恢复该系统后才会发送，没有预定时间。', ': nothing is sent until the system is resumed; no time is set.'],
  nextAttemptAt: ['：下次尝试于 ', ': next attempt at '],
  outcome: ['结论', 'Outcome'],
  resultMessage: ['意见', 'Message'],
  decidedAt: ['决定时间', 'Decided at'],
  documents: ['文书', 'Documents'],

  // The audit trail
  auditTrail: ['审计记录', 'Audit trail'],
  newestFirst: ['最新的在前。', 'Newest first.'],
  target: ['对象', 'Target'],
  detail: ['说明', 'Detail'],
  nothingAudited: ['暂无记录。', 'Nothing audited yet.'],
  auditFailed: ['读取审计记录失败', 'Could not load the audit trail'],

  // Unmatched results
  unmatchedResults: ['未匹配结果', 'Unmatched results'],
  unmatchedHint: ['业务系统推送、但找不到对应办件的结果，保留待处理。', 'Results a system pushed that no case was found for, kept for ops.'],
  received: ['收到时间', 'Received'],
  pushed: ['原始内容', 'Pushed'],
  receiptWord: ['回执', 'receipt'],
  nothingUnmatched: ['没有未匹配结果。', 'Nothing unmatched.'],
  unmatchedFailed: ['读取未匹配结果失败', 'Could not load unmatched results'],
  rematch: ['重新匹配', 'Rematch'],
  rematchFailed: ['重新匹配失败', 'Rematch failed'],
  matched: ['已匹配', 'Matched'],
  matchedText: ['{id}：结果已记入办件。', '{id}: the result is on its case.'],
  stillUnmatched: ['仍未匹配', 'Still unmatched'],
  stillUnmatchedText: ['仍找不到对应的办件或回执号。', 'No delivery matches it yet.'],
  discardUnmatched: ['丢弃未匹配结果', 'Discard the unmatched result'],
  discardUnmatchedExplained: ['丢弃后该结果不再保留，也不会再自动匹配；原因写入审计记录。', 'It is no longer kept nor matched again; the reason is audited.'],

  // Shared-data look-ups
  sharedDataLookups: ['查询记录', 'Shared-data look-ups'],
  sharedDataLookupsCaption: ['共享数据查询记录', 'Shared-data look-ups'],
  lookupsHint: ['谁为哪个办件、以什么用途查询了谁的哪些资料；身份证号已脱敏，最新的在前。', 'Who looked up whom, for which case and purpose; ID numbers masked, newest first.'],
  idNumber: ['身份证号', 'ID number'],
  theFullNumber: ['完整号码', 'the full number'],
  filteredById: ['当前身份证号筛选：{masked}', 'filtered by ID: {masked}'],
  lookedUpBy: ['查询人', 'Who'],
  purpose: ['用途', 'Purpose'],
  person: ['查询对象', 'Person'],
  kinds: ['资料', 'Kinds'],
  statuses: ['结果', 'Statuses'],
  ms: ['耗时 ms', 'ms'],
  refused: ['拒绝', 'refused'],
  purposeNotAllowed: ['用途不允许：', 'purpose not allowed: '],
  cached: [' 缓存', ' cached'],
  noLookups: ['没有查询记录。', 'No look-ups.'],
  lookupsFailed: ['读取查询记录失败', 'Could not load the look-ups'],

  // Reports
  timelinessReport: ['办理时效报表', 'Timeliness report'],
  timelinessHint: ['按受理日期统计（北京时间，起止日均含）；按时办结率＝按时办结数 ÷ 办结数，无时限的事项不计。', 'Cases by day of acceptance (Beijing time, both days included); on-time rate = completed on time ÷ completed; items without a time limit show none.'],
  downloadCsv: ['下载 CSV', 'Download CSV'],
  fromDay: ['从', 'From'],
  toDay: ['到', 'To'],
  groupBy: ['分组', 'Group by'],
  byItem: ['事项', 'Item'],
  bySystem: ['业务系统', 'System'],
  byLevel: ['层级', 'Level'],
  byChannel: ['渠道', 'Channel'],
  showReport: ['统计', 'Show'],
  casesAccepted: ['受理件数', 'Cases'],
  completedCases: ['办结件数', 'Completed'],
  onTimePromised: ['承诺时限内办结率', 'On time (promised)'],
  onTimeLegal: ['法定时限内办结率', 'On time (legal)'],
  medianDays: ['办理工作日中位数', 'Median working days'],
  p90Days: ['办理工作日 P90', 'P90 working days'],
  overdueOpen: ['在办超期', 'Overdue open'],
  stoppedNeedMore: ['补正停表', 'Stopped for 补正'],
  stoppedSpecial: ['特别程序停表', 'Stopped for a special procedure'],
  channelCode: ['来源 {code}', 'Channel {code}'],
  promisedCut: ['承诺时限压缩比', 'Promised cut'],
  noCasesInPeriod: ['该期间没有受理的办件。', 'No cases accepted in this period.'],
  onTimeChart: ['按时办结率', 'On-time rate'],
  onTimePromisedBar: ['{key}：承诺时限内办结率 {rate}', '{key}: on time against the promised limit {rate}'],
  onTimeLegalBar: ['{key}：法定时限内办结率 {rate}', '{key}: on time against the legal limit {rate}'],
  promisedLimit: ['承诺时限', 'promised limit'],
  legalLimit: ['法定时限', 'legal limit'],
  reportFailed: ['读取报表失败', 'Could not load the report'],

  // A system's configuration page
  back: ['← 返回业务系统', '← Back to systems'],
  backLabel: ['返回业务系统列表', 'Back to the list of systems'],
  loading: ['读取中…', 'Loading…'],
  version: ['版本 v{version}', 'version v{version}'],
  sourceFile: ['来源：配置文件', 'source: file'],
  sourceApi: ['来源：管理接口', 'source: API'],
  circuitOpen: ['熔断中', 'circuit open'],
  circuitHalfOpen: ['熔断试探中', 'circuit half-open (probing)'],
  pauseLabel: ['暂停 {id}', 'Pause {id}'],
  resumeLabel: ['恢复 {id}', 'Resume {id}'],
  configTitle: ['配置', 'Configuration'],
  readOnly: ['只读：您的角色不能修改配置。', 'Read-only: your role may not change the configuration.'],
  operatorEdit: ['可以编辑后试运行，但只有管理员能保存。', 'You may edit and dry-run; only an admin may save.'],
  unsaved: ['有未保存的修改', 'unsaved changes'],
  draftRestored: ['已恢复您离开此页前未保存的修改（基于版本 v{version}）。', 'Your unsaved edits from before you left this page are back (based on v{version}).'],
  draftDropped: ['您离开此页前未保存的修改基于 v{old}，其间已保存了 v{version}，这些修改已放弃。', 'Your unsaved edits from before you left were based on v{old}; v{version} was saved meanwhile, so they were set aside.'],
  noChanges: ['与运行版本一致', 'same as the running version'],
  save: ['保存', 'Save'],
  saveLabel: ['保存为新版本', 'Save as a new version'],
  revert: ['放弃修改', 'Discard edits'],
  reset: ['恢复为文件配置', 'Reset to the file'],
  resetConfirm: ['恢复为 OW_CONFIG_DIR 中的文件配置（保存为新版本，来源为文件）。', 'Go back to the file in OW_CONFIG_DIR (stored as a new version, source file).'],
  saved: ['已保存为版本 v{version}，各网关进程将在数秒内使用。', 'Saved as version v{version}; every gateway process uses it within seconds.'],
  notSaved: ['未保存：配置有 {n} 处错误，请按提示修改。', 'Not saved: {n} error(s) in the configuration, marked below.'],
  yamlInvalid: ['未保存：YAML 格式错误，请先修正。', 'Not saved: the YAML does not parse; fix it first.'],
  stale: ['未保存：在您编辑期间，{who} 已把配置改为版本 v{version}。', 'Not saved: {who} changed the configuration to version v{version} while you were editing.'],
  staleUnknown: ['未保存：在您编辑期间，配置已被他人修改。', 'Not saved: someone changed the configuration while you were editing.'],
  reloadLatest: ['重新加载最新版本（放弃我的修改）', 'Reload the latest version (discard my edits)'],
  keepMine: ['保留我的修改，与最新版本对比', 'Keep my edits and compare with the latest'],
  errorsTitle: ['错误（来自网关的校验）', 'Errors (the gateway’s validation)'],
  errorAt: ['第 {line} 行', 'line {line}'],
  diffTitle: ['差异', 'Diff'],
  diffEditing: ['运行版本 v{version}（左）与编辑中的配置（右）', 'Running version v{version} (left) and your edits (right)'],
  diffSaved: ['本次保存的改动：v{from}（左）→ v{to}（右）', 'What this save changed: v{from} (left) → v{to} (right)'],
  diffVersion: ['历史版本 v{version}（左）与运行版本 v{running}（右）', 'Version v{version} (left) and the running version v{running} (right)'],
  diffNone: ['没有未保存的修改。', 'No unsaved changes.'],
  historyTitle: ['历史版本', 'History'],
  hVersion: ['版本', 'Version'],
  hAt: ['时间', 'At'],
  hWho: ['操作人', 'Who'],
  hSource: ['来源', 'Source'],
  hSummary: ['摘要', 'Summary'],
  hAction: ['操作', 'Action'],
  current: ['运行中', 'running'],
  view: ['查看', 'View'],
  viewLabel: ['查看版本 v{version}', 'View version v{version}'],
  rollback: ['回滚', 'Roll back'],
  rollbackLabel: ['回滚到版本 v{version}', 'Roll back to version v{version}'],
  rollbackConfirm: ['把版本 v{version} 的内容保存为新版本。', 'Store the content of version v{version} as a new version.'],
  rolledBack: ['已回滚：版本 v{from} 的内容已保存为版本 v{version}。', 'Rolled back: the content of version v{from} is now version v{version}.'],
  applyError: ['未能在某进程生效：{message}', 'Not applied on a process: {message}'],
  file: ['文件', 'file'],
  api: ['接口', 'API'],
  dryTitle: ['试运行（不发送）', 'Dry run (nothing is sent)'],
  dryHint: ['看看会向该系统发送什么：留空办件编号则用示例办件。', 'See what would be sent to this system; leave the caseId empty for the sample case.'],
  dryCase: ['办件编号 caseId', 'caseId'],
  dryProposed: ['使用编辑中（未保存）的配置', 'Use the edited (unsaved) configuration'],
  dryReply: ['示例回复（JSON，可选）：看 response.* 如何解读', 'Sample reply (JSON, optional): what response.* makes of it'],
  dryRun: ['试运行', 'Dry run'],
  dryReplyInvalid: ['示例回复不是有效的 JSON。', 'The sample reply is not valid JSON.'],
  dryUsing: ['使用配置', 'Configuration'],
  dryUsingVersion: ['运行版本 v{version}', 'running version v{version}'],
  dryUsingProposed: ['编辑中的配置（未保存）', 'the edited configuration (unsaved)'],
  dryCaseLine: ['办件', 'Case'],
  caseStored: ['已存储的办件', 'stored case'],
  caseGiven: ['给定的办件', 'given case'],
  caseSample: ['示例办件', 'sample case'],
  dryRequest: ['请求', 'Request'],
  dryHeaders: ['请求头（凭据已隐藏）', 'Headers (credentials redacted)'],
  dryBody: ['报文', 'Body'],
  dryCharset: ['字符集 {charset}，{bytes} 字节', 'charset {charset}, {bytes} bytes'],
  drySeal: ['签章 X-OW-Seal', 'Seal X-OW-Seal'],
  dryNoSeal: ['不加签章（seal: false）', 'not sealed (seal: false)'],
  drySealAtSend: ['发送时加签章：每次投递按实际发送的字节生成 X-OW-Seal 请求头，试运行不生成签章。', 'Sealed when sent: each delivery gets an X-OW-Seal header over the exact bytes sent; a dry run makes no seal.'],
  drySealPreview: ['预览：试运行的签章未签名，验证结果永远无效；投递时按实际发送的字节签章。', "Preview: a dry run's seal is not signed and never verifies; a delivery's seal is signed over the bytes sent."],
  dryReplyTitle: ['response.* 对示例回复的解读', 'What response.* makes of the sample reply'],
  dryMaterials: ['材料（只列大小与摘要，不含内容）', 'Materials (sizes and digests, never the bytes)'],
  matKind: ['类型', 'kind'],
  matName: ['名称', 'name'],
  matSize: ['大小（字节）', 'size (bytes)'],
  matHandover: ['交付方式', 'handed over'],
  matState: ['获取', 'fetched'],
  matUri: ['以链接（URI）写入报文', 'its URI in the body'],
  matBase64: ['内嵌 base64，位于 {field}', 'base64 in the body at {field}'],
  matFormData: ['multipart/form-data 附件，引用位于 {field}', 'multipart/form-data part, referenced at {field}'],
  matMtom: ['MTOM/XOP 附件，引用位于 {field}', 'MTOM/XOP part, referenced at {field}'],
  matFetched: ['已获取（本办件的投递已获取）', 'fetched (by a delivery of this case)'],
  matNotFetched: ['尚未获取（试运行不获取，投递时获取）', 'not fetched yet (a dry run fetches nothing; a delivery would)'],
  matByReference: ['不获取（按引用交付）', 'never (by reference)'],
  success: ['成功', 'success'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  receiptNo: ['回执号', 'receipt'],
  error: ['错误', 'error'],
  retryable: ['可重试', 'retryable'],
  notSent: ['未发送任何内容。', 'Nothing was sent.'],
  failed: ['操作失败', 'Failed'],
  paused: ['已暂停', 'paused'],
  running: ['运行中', 'running'],
  pause: ['暂停', 'Pause'],
  resume: ['恢复', 'Resume'],
  pausedDone: ['已暂停 {id}。', '{id} paused.'],
  resumedDone: ['已恢复 {id}。', '{id} resumed.'],
  added: ['已新增系统 {id}（版本 v{version}），各网关进程将在数秒内启动其投递。', 'System {id} added (version v{version}); every gateway process starts delivering to it within seconds.'],

  // Adding a system
  newTitle: ['新增业务系统', 'Add a legacy system'],
  newHint: [
    '从模板开始：选择协议，再按对方系统的接口修改 id、名称、地址和映射。保存即新增该系统：网关按启动时校验配置文件的规则校验，各网关进程在 5 秒内开始向它投递。',
    "Start from a template: pick the protocol, then change the id, name, endpoint and mappings to the system's interface. Saving adds the system: the gateway checks it as it checks its files at start-up, and every gateway process starts delivering to it within 5 s.",
  ],
  newTemplateNote: ['模板中的地址 127.0.0.1 只是占位，请改为对方系统的地址；推送结果的系统还需填写 result.inboundToken。', "The template's 127.0.0.1 endpoint is a placeholder: put the system's address. A system that pushes results also needs result.inboundToken."],
  newProtocol: ['协议模板', 'Protocol template'],
  newCreate: ['新增', 'Add'],
  newCreateLabel: ['新增该业务系统', 'Add this legacy system'],
  newNoId: ['未新增：YAML 中缺少 id（小写字母、数字和连字符）。', 'Not added: the YAML has no id (lower-case letters, digits and dashes).'],
  newExists: ['未新增：已有 ID 为 {id} 的业务系统。', 'Not added: a system with the id {id} exists.'],
  openExisting: ['打开该系统', 'Open that system'],
  newAdminOnly: ['只有管理员能新增业务系统。', 'Only an admin may add a legacy system.'],
  notAdded: ['未新增：配置有 {n} 处错误，请按提示修改。', 'Not added: {n} error(s) in the configuration, marked below.'],

  // The routes
  routesTitle: ['路由：事项编码 → 业务系统', 'Routes: item code → systems'],
  routesHint: [
    '按 itemCode 通配符自上而下匹配，第一条匹配的路由决定投递给哪些系统；unrouted 为 reject（拒收）或兜底系统。保存为新版本，各网关进程在 5 秒内按新路由分派。',
    'Routes are tried top to bottom by their itemCode glob; the first that matches decides which systems get the case. unrouted is reject or a catch-all system. Saved as a new version; every gateway process routes by it within 5 s.',
  ],
  routesReadOnly: ['只读：只有管理员能修改路由。', 'Read-only: only an admin may change the routes.'],
  routesSaved: ['已保存为路由版本 v{version}，各网关进程将在数秒内使用。', 'Saved as routes version v{version}; every gateway process uses it within seconds.'],
  routesStale: ['未保存：在您编辑期间，{who} 已把路由改为版本 v{version}。', 'Not saved: {who} changed the routes to version v{version} while you were editing.'],
  routesRollbackConfirm: ['把路由版本 v{version} 的内容保存为新版本。', 'Store the content of routes version v{version} as a new version.'],
  routesRolledBack: ['已回滚：路由版本 v{from} 的内容已保存为版本 v{version}。', 'Rolled back: the content of routes version v{from} is now version v{version}.'],} as const satisfies Record<string, Pair>;

export type WordKey = keyof typeof WORDS;

/** The page's word for `key` in `lang`, with `{name}` filled in from `vars`. */
export function say(key: WordKey, lang: Lang, vars: Readonly<Record<string, string | number>> = {}): string {
  return pick(WORDS[key], lang).replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

/**
 * A history summary of a configuration version as the gateway writes it (src/config/live.ts:
 * "changed request, timeoutMs", "rollback to version 2: …", "reset to the file: …", "reloaded from
 * the file: …", "created", "created from the file", "removed", "the configuration file", "no
 * change") in `lang`; anything else is shown as written.
 */
export function summaryWords(summary: string, lang: Lang): string {
  if (lang === 'en') return summary;
  const one = (part: string): string => {
    if (part === 'the configuration file') return '配置文件';
    if (part === 'no change') return '无改动';
    if (part === 'reset to the file') return '恢复为文件配置';
    if (part === 'created') return '新增';
    if (part === 'created from the file') return '由配置文件新增';
    if (part === 'reloaded from the file') return '从配置文件重新加载';
    if (part === 'removed') return '已删除';
    const rollback = /^rollback to version (\d+)$/.exec(part);
    if (rollback) return `回滚到版本 v${rollback[1]}`;
    const changed = /^changed (.+)$/.exec(part);
    if (changed) return `修改了 ${changed[1]}`;
    return part;
  };
  return summary.split(': ').map(one).join('：');
}

/** Who stored a configuration version: a person's name as the gateway recorded it, or the file itself. */
export function whoWords(who: string, lang: Lang): string {
  return who === 'file' ? (lang === 'en' ? 'the file' : '配置文件') : who;
}

// ---------------------------------------------------------------- gateway messages

const HTTP_MEANING: Readonly<Record<number, string>> = {
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

/** What an HTTP status means, in Chinese (the English message names the status itself). */
export function httpMeaning(status: string | number): string {
  const n = Number(status);
  return HTTP_MEANING[n] ?? (n >= 500 ? '对方服务器错误' : n >= 400 ? '请求被拒绝' : '非预期的状态');
}

/**
 * The parts a translation is made of: text, `{ own }` (the system's words, kept as they are),
 * `{ tech }` (a library's or a configuration's words, kept as they are) and `{ time }` (an instant).
 */
export type MessagePart = string | { own: string } | { tech: string } | { time: string };

const own = (text: string): MessagePart => ({ own: text });
const tech = (text: string): MessagePart => ({ tech: text });
const time = (iso: string): MessagePart => ({ time: iso });

const SYS = '([^\\s:]+)';
const re = (source: string): RegExp => new RegExp(`^${source}$`, 's');
// Where a refused credential came from, when the audit entry says.
const from = (address: string | undefined): string => (address ? `（来自 ${address}）` : '');

interface MessagePattern {
  id: string;
  re: RegExp;
  /** The Chinese parts, from the match; `more` translates a message embedded in this one. */
  zh(m: RegExpExecArray, more: (inner: string) => MessagePart[]): MessagePart[];
}

/** How materials were handed over (a delivery's `materials` history entry). */
const HANDOVER: Readonly<Record<string, string>> = { reference: '以链接交付', inline: '内嵌交付', attach: '以附件交付' };

/** The gateway's message patterns, tried in order (the more specific first). */
export const MESSAGES: readonly MessagePattern[] = [
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
  { id: 'zod_affix', re: re('Invalid string: must (start with|end with|include) (.+)'), zh: (m) => [`格式不对：须${AFFIX[m[1]][0]} ${m[2]}${AFFIX[m[1]][1]}`] },
  { id: 'zod_multiple', re: re('Invalid number: must be a multiple of (\\S+)'), zh: (m) => [`数值须为 ${m[1]} 的倍数`] },
  { id: 'zod_keys', re: re('Unrecognized keys?: (.+)'), zh: (m) => [`不认识的键：${m[1]}`] },
  { id: 'zod_discriminator', re: re('Invalid discriminator value\\. Expected (.+)'), zh: (m) => [`类型标识不对：应为 ${m[1]}`] },
  { id: 'zod_in', re: re('Invalid (key|value) in (\\S+)'), zh: (m) => [`${zodWord(m[2])}中有无效的${m[1] === 'key' ? '键' : '值'}`] },
  { id: 'zod_input', re: re('Invalid input'), zh: () => ['输入无效'] },
  { id: 'zod_format', re: re('Invalid (.+)'), zh: (m) => [`格式无效：应为 ${m[1]}`] },
  // A result's history detail: outcome, the system's message, then the result as JSON.
  { id: 'result', re: re('(approved|rejected|need_more|info)(?:: (.*?))? (\\{.*\\})'), zh: (m) => [word('OUTCOME', m[1], 'zh-CN'), m[2] ? '：' : '', m[2] ? own(m[2]) : '', ' ', tech(m[3])] },
];

/** zod's words for types, origins and units, where Chinese has its own. */
const ZOD_WORDS: Readonly<Record<string, string>> = {
  string: '字符串', number: '数值', int: '整数', boolean: '布尔值', object: '对象', array: '数组', null: '空值（null）',
  undefined: '未填（undefined）', date: '日期', bigint: '大整数', set: '集合', map: '映射', file: '文件', value: '取值',
  characters: '个字符', items: '项', elements: '个元素', keys: '个键', bytes: '字节',
};
const zodWord = (w: string | undefined): string => (w === undefined ? '' : (ZOD_WORDS[w] ?? w));
const BOUND: Readonly<Record<string, string>> = { '<=': '不超过', '<': '小于', '>=': '不少于', '>': '大于', '=': '为' };
const AFFIX: Readonly<Record<string, readonly [string, string]>> = { 'start with': ['以', ' 开头'], 'end with': ['以', ' 结尾'], include: ['包含', ''] };

const DRY_CASES: Readonly<Record<string, string>> = { stored: '已存储的办件', given: '给定的办件', sample: '示例办件' };

const SEAL_REASONS: Readonly<Record<string, string>> = {
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
function said(text: string | undefined): MessagePart[] {
  return text === 'refused without a message' ? ['未说明原因'] : [own(text ?? '')];
}

const INSTANT = /(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))/;

/** The gateway's own instants in an English text as times, shown like every other time on the page (not raw UTC). */
function instants(part: MessagePart): MessagePart[] {
  if (typeof part !== 'string') return [part];
  return part
    .split(INSTANT)
    .filter((p) => p !== '')
    .map((p) => (INSTANT.test(p) ? time(p) : p));
}

/** The English message as it is, with the system's own words in it marked as in the translation. */
function markOwn(text: string, translated: readonly MessagePart[]): MessagePart[] {
  const parts: MessagePart[] = [];
  let rest = text;
  for (const part of translated) {
    if (typeof part === 'string' || !('own' in part) || !part.own) continue;
    // The system's words come last in every pattern that has them: the last occurrence is theirs.
    const at = rest.lastIndexOf(part.own);
    if (at < 0) continue;
    if (at > 0) parts.push(rest.slice(0, at));
    parts.push(part);
    rest = rest.slice(at + part.own.length);
  }
  if (rest) parts.push(rest);
  return parts;
}

export interface GatewayParts {
  parts: MessagePart[];
  /** Whether a pattern matched (else the message is kept as it came, marked as technical text). */
  known: boolean;
  /** The pattern that matched. */
  id?: string;
}

/**
 * A gateway message as parts in `lang`. In English the message is the gateway's own text,
 * unchanged; in Chinese each known pattern is translated, and anything else is kept as it came
 * (`known: false`) and marked as untranslated technical text.
 */
export function gatewayParts(message: string | undefined | null, lang: Lang): GatewayParts {
  if (message === undefined || message === null || message === '') return { parts: [], known: true };
  const text = String(message);
  const translate = (t: string, depth: number): { id?: string; parts: MessagePart[] } => {
    if (depth < 4) {
      for (const pattern of MESSAGES) {
        const m = pattern.re.exec(t);
        if (m) return { id: pattern.id, parts: pattern.zh(m, (inner) => translate(inner, depth + 1).parts) };
      }
    }
    return { parts: [tech(t)] };
  };
  const found = translate(text, 0);
  const known = found.id !== undefined;
  if (lang === 'en') return { parts: markOwn(text, found.parts).flatMap(instants), known, id: found.id };
  return { parts: found.parts.filter((p) => p !== ''), known, id: found.id };
}

/** A gateway message as plain text in `lang` (where no markup can go: an editor's diagnostic, a line of text). */
export function gatewayText(message: string, lang: Lang): string {
  return gatewayParts(message, lang)
    .parts.map((part) => (typeof part === 'string' ? part : 'own' in part ? part.own : 'tech' in part ? part.tech : part.time))
    .join('');
}
