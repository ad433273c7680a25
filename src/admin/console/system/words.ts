/**
 * Every word the system page shows, in both languages. Chinese is the default; the page follows
 * `document.documentElement.lang` ('zh-CN' or 'en'), which the console sets and announces with an
 * `ow:lang` event on `document`.
 */
const zh = {
  back: '← 返回业务系统',
  backLabel: '返回业务系统列表',
  loading: '读取中…',
  version: '版本 v{version}',
  sourceFile: '来源：配置文件',
  sourceApi: '来源：管理接口',
  paused: '已暂停',
  running: '运行中',
  circuitOpen: '熔断中',
  circuitHalfOpen: '熔断试探中',
  pause: '暂停',
  resume: '恢复',
  pauseLabel: '暂停 {id}',
  resumeLabel: '恢复 {id}',
  paused_done: '已暂停 {id}。',
  resumed_done: '已恢复 {id}。',
  configTitle: '配置',
  readOnly: '只读：您的角色不能修改配置。',
  operatorEdit: '可以编辑后试运行，但只有管理员能保存。',
  unsaved: '有未保存的修改',
  draftRestored: '已恢复您离开此页前未保存的修改（基于版本 v{version}）。',
  draftDropped: '您离开此页前未保存的修改基于 v{old}，其间已保存了 v{version}，这些修改已放弃。',
  noChanges: '与运行版本一致',
  save: '保存',
  saveLabel: '保存为新版本',
  revert: '放弃修改',
  reset: '恢复为文件配置',
  resetConfirm: '恢复为 OW_CONFIG_DIR 中的文件配置（保存为新版本，来源为文件）。',
  saving: '正在保存…',
  saved: '已保存为版本 v{version}，各网关进程将在数秒内使用。',
  notSaved: '未保存：配置有 {n} 处错误，请按提示修改。',
  yamlInvalid: '未保存：YAML 格式错误，请先修正。',
  stale: '未保存：在您编辑期间，{who} 已把配置改为版本 v{version}。',
  staleUnknown: '未保存：在您编辑期间，配置已被他人修改。',
  reloadLatest: '重新加载最新版本（放弃我的修改）',
  keepMine: '保留我的修改，与最新版本对比',
  errorsTitle: '错误（来自网关的校验）',
  errorAt: '第 {line} 行',
  errorsNone: '',
  diffTitle: '差异',
  diffEditing: '运行版本 v{version}（左）与编辑中的配置（右）',
  diffSaved: '本次保存的改动：v{from}（左）→ v{to}（右）',
  diffVersion: '历史版本 v{version}（左）与运行版本 v{running}（右）',
  diffNone: '没有未保存的修改。',
  historyTitle: '历史版本',
  hVersion: '版本',
  hAt: '时间',
  hWho: '操作人',
  hSource: '来源',
  hSummary: '摘要',
  hAction: '操作',
  current: '运行中',
  view: '查看',
  viewLabel: '查看版本 v{version}',
  rollback: '回滚',
  rollbackLabel: '回滚到版本 v{version}',
  rollbackConfirm: '把版本 v{version} 的内容保存为新版本。',
  rolledBack: '已回滚：版本 v{from} 的内容已保存为版本 v{version}。',
  reasonLabel: '原因（可选，写入审计记录）',
  confirm: '确定',
  cancel: '取消',
  applyError: '未能在某进程生效：{message}',
  file: '文件',
  api: '接口',
  dryTitle: '试运行（不发送）',
  dryHint: '看看会向该系统发送什么：留空办件编号则用示例办件。',
  dryCase: '办件编号 caseId',
  dryProposed: '使用编辑中（未保存）的配置',
  dryReply: '示例回复（JSON，可选）：看 response.* 如何解读',
  dryRun: '试运行',
  dryRunning: '试运行中…',
  dryReplyInvalid: '示例回复不是有效的 JSON。',
  dryUsing: '使用配置',
  dryUsingVersion: '运行版本 v{version}',
  dryUsingProposed: '编辑中的配置（未保存）',
  dryCaseLine: '办件',
  caseStored: '已存储的办件',
  caseGiven: '给定的办件',
  caseSample: '示例办件',
  dryRequest: '请求',
  dryHeaders: '请求头（凭据已隐藏）',
  dryBody: '报文',
  dryCharset: '字符集 {charset}，{bytes} 字节',
  drySeal: '签章 X-OW-Seal',
  dryNoSeal: '不加签章（seal: false）',
  drySealAtSend: '发送时加签章：每次投递按实际发送的字节生成 X-OW-Seal 请求头，试运行不生成签章。',
  drySealPreview: '预览：试运行的签章未签名，验证结果永远无效；投递时按实际发送的字节签章。',
  dryReplyTitle: 'response.* 对示例回复的解读',
  success: '成功',
  yes: '是',
  no: '否',
  receiptNo: '回执号',
  error: '错误',
  retryable: '可重试',
  notSent: '未发送任何内容。',
  failed: '操作失败',
  added: '已新增系统 {id}（版本 v{version}），各网关进程将在数秒内启动其投递。',
  newTitle: '新增业务系统',
  newHint: '从模板开始：选择协议，再按对方系统的接口修改 id、名称、地址和映射。保存即新增该系统：网关按启动时校验配置文件的规则校验，各网关进程在 5 秒内开始向它投递。',
  newTemplateNote: '模板中的地址 127.0.0.1 只是占位，请改为对方系统的地址；推送结果的系统还需填写 result.inboundToken。',
  newProtocol: '协议模板',
  newCreate: '新增',
  newCreateLabel: '新增该业务系统',
  newNoId: '未新增：YAML 中缺少 id（小写字母、数字和连字符）。',
  newExists: '未新增：已有 ID 为 {id} 的业务系统。',
  openExisting: '打开该系统',
  newAdminOnly: '只有管理员能新增业务系统。',
  notAdded: '未新增：配置有 {n} 处错误，请按提示修改。',
  routesTitle: '路由：事项编码 → 业务系统',
  routesHint: '按 itemCode 通配符自上而下匹配，第一条匹配的路由决定投递给哪些系统；unrouted 为 reject（拒收）或兜底系统。保存为新版本，各网关进程在 5 秒内按新路由分派。',
  routesReadOnly: '只读：只有管理员能修改路由。',
  routesSaved: '已保存为路由版本 v{version}，各网关进程将在数秒内使用。',
  routesStale: '未保存：在您编辑期间，{who} 已把路由改为版本 v{version}。',
  routesRollbackConfirm: '把路由版本 v{version} 的内容保存为新版本。',
  routesRolledBack: '已回滚：路由版本 v{from} 的内容已保存为版本 v{version}。',
  codes: {
    unauthorized: '令牌无效或未提供',
    forbidden: '此令牌的角色无权执行此操作',
    not_found: '找不到该对象',
    unknown_case: '没有这个办件',
    unknown_system: '没有这个业务系统',
    invalid_request: '请求内容不正确',
    invalid_config: '配置不正确',
    version_mismatch: '配置已被他人修改',
    version_conflict: '配置已被他人修改',
    precondition_required: '须带 If-Match（修改所基于的版本）',
    system_busy: '该系统仍有投递、死信或配置引用，不能删除',
    internal: '网关内部错误（已记录日志）',
    unavailable: '网关暂时无法处理，请稍后再试',
    network: '无法连接网关',
    bad_answer: '网关的回答无法识别',
  } as Record<string, string>,
};

type Words = typeof zh;

const en: Words = {
  back: '← Back to systems',
  backLabel: 'Back to the list of systems',
  loading: 'Loading…',
  version: 'version v{version}',
  sourceFile: 'source: file',
  sourceApi: 'source: API',
  paused: 'paused',
  running: 'running',
  circuitOpen: 'circuit open',
  circuitHalfOpen: 'circuit half-open (probing)',
  pause: 'Pause',
  resume: 'Resume',
  pauseLabel: 'Pause {id}',
  resumeLabel: 'Resume {id}',
  paused_done: '{id} paused.',
  resumed_done: '{id} resumed.',
  configTitle: 'Configuration',
  readOnly: 'Read-only: your role may not change the configuration.',
  operatorEdit: 'You may edit and dry-run; only an admin may save.',
  unsaved: 'unsaved changes',
  draftRestored: 'Your unsaved edits from before you left this page are back (based on v{version}).',
  draftDropped: 'Your unsaved edits from before you left were based on v{old}; v{version} was saved meanwhile, so they were set aside.',
  noChanges: 'same as the running version',
  save: 'Save',
  saveLabel: 'Save as a new version',
  revert: 'Discard edits',
  reset: 'Reset to the file',
  resetConfirm: 'Go back to the file in OW_CONFIG_DIR (stored as a new version, source file).',
  saving: 'Saving…',
  saved: 'Saved as version v{version}; every gateway process uses it within seconds.',
  notSaved: 'Not saved: {n} error(s) in the configuration, marked below.',
  yamlInvalid: 'Not saved: the YAML does not parse; fix it first.',
  stale: 'Not saved: {who} changed the configuration to version v{version} while you were editing.',
  staleUnknown: 'Not saved: someone changed the configuration while you were editing.',
  reloadLatest: 'Reload the latest version (discard my edits)',
  keepMine: 'Keep my edits and compare with the latest',
  errorsTitle: 'Errors (the gateway’s validation)',
  errorAt: 'line {line}',
  errorsNone: '',
  diffTitle: 'Diff',
  diffEditing: 'Running version v{version} (left) and your edits (right)',
  diffSaved: 'What this save changed: v{from} (left) → v{to} (right)',
  diffVersion: 'Version v{version} (left) and the running version v{running} (right)',
  diffNone: 'No unsaved changes.',
  historyTitle: 'History',
  hVersion: 'Version',
  hAt: 'At',
  hWho: 'Who',
  hSource: 'Source',
  hSummary: 'Summary',
  hAction: 'Action',
  current: 'running',
  view: 'View',
  viewLabel: 'View version v{version}',
  rollback: 'Roll back',
  rollbackLabel: 'Roll back to version v{version}',
  rollbackConfirm: 'Store the content of version v{version} as a new version.',
  rolledBack: 'Rolled back: the content of version v{from} is now version v{version}.',
  reasonLabel: 'Reason (optional, for the audit trail)',
  confirm: 'OK',
  cancel: 'Cancel',
  applyError: 'Not applied on a process: {message}',
  file: 'file',
  api: 'API',
  dryTitle: 'Dry run (nothing is sent)',
  dryHint: 'See what would be sent to this system; leave the caseId empty for the sample case.',
  dryCase: 'caseId',
  dryProposed: 'Use the edited (unsaved) configuration',
  dryReply: 'Sample reply (JSON, optional): what response.* makes of it',
  dryRun: 'Dry run',
  dryRunning: 'Running…',
  dryReplyInvalid: 'The sample reply is not valid JSON.',
  dryUsing: 'Configuration',
  dryUsingVersion: 'running version v{version}',
  dryUsingProposed: 'the edited configuration (unsaved)',
  dryCaseLine: 'Case',
  caseStored: 'stored case',
  caseGiven: 'given case',
  caseSample: 'sample case',
  dryRequest: 'Request',
  dryHeaders: 'Headers (credentials redacted)',
  dryBody: 'Body',
  dryCharset: 'charset {charset}, {bytes} bytes',
  drySeal: 'Seal X-OW-Seal',
  dryNoSeal: 'not sealed (seal: false)',
  drySealAtSend: 'Sealed when sent: each delivery gets an X-OW-Seal header over the exact bytes sent; a dry run makes no seal.',
  drySealPreview: "Preview: a dry run's seal is not signed and never verifies; a delivery's seal is signed over the bytes sent.",
  dryReplyTitle: 'What response.* makes of the sample reply',
  success: 'success',
  yes: 'yes',
  no: 'no',
  receiptNo: 'receipt',
  error: 'error',
  retryable: 'retryable',
  notSent: 'Nothing was sent.',
  failed: 'Failed',
  added: 'System {id} added (version v{version}); every gateway process starts delivering to it within seconds.',
  newTitle: 'Add a legacy system',
  newHint: "Start from a template: pick the protocol, then change the id, name, endpoint and mappings to the system's interface. Saving adds the system: the gateway checks it as it checks its files at start-up, and every gateway process starts delivering to it within 5 s.",
  newTemplateNote: "The template's 127.0.0.1 endpoint is a placeholder: put the system's address. A system that pushes results also needs result.inboundToken.",
  newProtocol: 'Protocol template',
  newCreate: 'Add',
  newCreateLabel: 'Add this legacy system',
  newNoId: 'Not added: the YAML has no id (lower-case letters, digits and dashes).',
  newExists: 'Not added: a system with the id {id} exists.',
  openExisting: 'Open that system',
  newAdminOnly: 'Only an admin may add a legacy system.',
  notAdded: 'Not added: {n} error(s) in the configuration, marked below.',
  routesTitle: 'Routes: item code → systems',
  routesHint: 'Routes are tried top to bottom by their itemCode glob; the first that matches decides which systems get the case. unrouted is reject or a catch-all system. Saved as a new version; every gateway process routes by it within 5 s.',
  routesReadOnly: 'Read-only: only an admin may change the routes.',
  routesSaved: 'Saved as routes version v{version}; every gateway process uses it within seconds.',
  routesStale: 'Not saved: {who} changed the routes to version v{version} while you were editing.',
  routesRollbackConfirm: 'Store the content of routes version v{version} as a new version.',
  routesRolledBack: 'Rolled back: the content of routes version v{from} is now version v{version}.',
  codes: {
    unauthorized: 'The token is missing or not valid',
    forbidden: 'This token’s role may not do this',
    not_found: 'Not found',
    unknown_case: 'No such case',
    unknown_system: 'No such system',
    invalid_request: 'The request is not valid',
    invalid_config: 'The configuration is not valid',
    version_mismatch: 'Someone else changed the configuration',
    version_conflict: 'Someone else changed the configuration',
    precondition_required: 'If-Match is required',
    system_busy: 'The system is still in use; not removed',
    internal: 'Gateway error (logged)',
    unavailable: 'The gateway cannot do this now; try again shortly',
    network: 'Cannot reach the gateway',
    bad_answer: 'The gateway’s answer was not understood',
  },
};

export type WordKey = Exclude<keyof Words, 'codes'>;

export function lang(): 'zh-CN' | 'en' {
  return document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
}

function words(): Words {
  return lang() === 'en' ? en : zh;
}

/** The word for `key` in the page's language, with `{name}` filled in from `vars`. */
export function t(key: WordKey, vars: Record<string, string | number> = {}): string {
  return words()[key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
}

/** An error code in plain words (the gateway's own message is shown beside it). */
export function codeWords(code: string): string {
  return words().codes[code] ?? code;
}

/**
 * A history summary as the gateway writes it (src/config/live.ts: "changed request, timeoutMs",
 * "rollback to version 2: …", "reset to the file: …", "reloaded from the file: …", "created",
 * "created from the file", "removed", "the configuration file", "no change") in
 * the page's language; anything else is shown as written.
 */
export function summaryWords(summary: string): string {
  if (lang() === 'en') return summary;
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

/** Who stored a version: a person's name as the gateway recorded it, or the file itself. */
export function whoWords(who: string): string {
  return who === 'file' ? (lang() === 'en' ? 'the file' : '配置文件') : who;
}

type MessagePart = string | { own?: string; tech?: string; time?: string };
interface ConsoleWords {
  gatewayParts(message: string): { parts: MessagePart[] };
}

/**
 * A message the gateway wrote (a validation detail, an error) in the page's language, by the
 * console's one table of gateway messages (words.js, loaded before this bundle); as written without it.
 */
export function gatewayWords(message: string): string {
  const words = (window as unknown as { OWWords?: ConsoleWords }).OWWords;
  if (!words) return message;
  return words
    .gatewayParts(message)
    .parts.map((part) => (typeof part === 'string' ? part : (part.own ?? part.tech ?? part.time ?? '')))
    .join('');
}
