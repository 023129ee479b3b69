// strings: every word the resident page shows, in Chinese (the default) and English, and the two ways to
// put them on the page: t() for text built at render time, L()/La() for labels that must follow a language
// switch without the view being rebuilt (the code view keeps its code while the labels change).
import { LABELS } from '../common/labels.js';
import { translator, onLang } from '../common/i18n.js';

const dict = {
	...LABELS,
	'app.title': { zh: '随申码', en: 'Suishen Code' },
	'app.sub': { zh: '上海市民健康码', en: 'Shanghai health code' },
	'lang.toggle': { zh: 'EN', en: '中' },
	'lang.label': { zh: 'Switch to English', en: '切换到中文' },
	'logout': { zh: '退出', en: 'Log out' },
	'loading': { zh: '加载中…', en: 'Loading…' },
	'retry': { zh: '重试', en: 'Retry' },
	'cancel': { zh: '取消', en: 'Cancel' },
	'back': { zh: '返回', en: 'Back' },
	'none': { zh: '暂无记录', en: 'Nothing yet' },

	// log in and register
	'login.title': { zh: '登录', en: 'Log in' },
	'login.lead': { zh: '使用身份证号、密码和身份验证器中的 6 位动态码登录。', en: 'Log in with your ID number, password and the 6-digit code from your authenticator app.' },
	'login.id': { zh: '身份证号', en: 'ID number' },
	'login.password': { zh: '密码', en: 'Password' },
	'login.otp': { zh: '动态验证码（6 位）', en: 'Authenticator code (6 digits)' },
	'login.submit': { zh: '登录', en: 'Log in' },
	'login.busy': { zh: '正在登录…', en: 'Logging in…' },
	'login.toRegister': { zh: '还没有账号？注册', en: 'No account yet? Register' },
	'login.expired': { zh: '登录已失效，请重新登录。', en: 'Your session has ended. Please log in again.' },
	'login.loggedOut': { zh: '已退出登录。', en: 'You have logged out.' },
	'reg.title': { zh: '注册随申码', en: 'Register' },
	'reg.lead': { zh: '姓名须与身份证一致（实名核验）。', en: 'Your name must match your ID card (real-name check).' },
	'reg.name': { zh: '姓名', en: 'Full name' },
	'reg.id': { zh: '身份证号', en: 'ID number' },
	'reg.phone': { zh: '手机号', en: 'Phone number' },
	'reg.password': { zh: '密码（至少 8 位）', en: 'Password (at least 8 characters)' },
	'reg.submit': { zh: '注册', en: 'Register' },
	'reg.busy': { zh: '正在注册…', en: 'Registering…' },
	'reg.toLogin': { zh: '已有账号？登录', en: 'Already registered? Log in' },
	'reg.done': { zh: '注册成功', en: 'Registered' },
	'reg.scan': { zh: '用身份验证器（如 Google Authenticator、腾讯身份验证器）扫描下方二维码：', en: 'Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, …):' },
	'reg.manual': { zh: '无法扫码时，手动输入密钥：', en: 'Or enter this key by hand:' },
	'reg.otp': { zh: '输入验证器显示的 6 位动态码，完成首次登录', en: 'Enter the 6-digit code it shows to log in for the first time' },
	'reg.secretOnce': { zh: '此密钥只显示这一次：请现在就保存到身份验证器中，离开本页后无法再次查看。', en: 'This key is shown only once: save it in your authenticator app now. It cannot be shown again after you leave this page.' },
	'reg.otpSubmit': { zh: '验证并登录', en: 'Verify and log in' },

	// errors
	'err.unauthenticated': { zh: '身份证号、密码或动态码不正确。', en: 'The ID number, password or code is not right.' },
	'err.rate_limited': { zh: '失败次数过多，请稍后再试。', en: 'Too many failed attempts: please wait and try again.' },
	'err.wait': { zh: '尝试过于频繁，请 {n} 秒后再试。', en: 'Too many attempts. Try again in {n} s.' },
	'err.waitMin': { zh: '尝试过于频繁，请 {n} 分钟后再试。', en: 'Too many attempts. Try again in {n} min.' },
	'err.bytes': { zh: '内容过长：最多 {max} 字节（一个汉字占 3 字节），现在是 {n} 字节。', en: 'Too long: at most {max} bytes (a Chinese character takes 3), this is {n}.' },
	'err.req.answered': { zh: '这个请求已处理过。', en: 'This request was already answered.' },
	'err.real_name_mismatch': { zh: '姓名与身份证号不一致（实名核验未通过）。', en: 'The name does not match the ID number (real-name check failed).' },
	'err.conflict': { zh: '该身份证号已注册。', en: 'This ID number is registered already.' },
	'err.invalid_argument': { zh: '请检查填写的内容。', en: 'Please check what you entered.' },
	'err.network': { zh: '网络连接失败，请检查网络后重试。', en: 'Could not reach the server: check your connection and try again.' },
	'err.unavailable': { zh: '系统繁忙，请稍后再试。', en: 'The service is busy: please try again shortly.' },
	'err.not_found': { zh: '未找到。', en: 'Not found.' },
	'err.permission_denied': { zh: '无权操作。', en: 'Not allowed.' },
	'err.too_large': { zh: '内容过长。', en: 'Too long.' },
	'err.unknown': { zh: '出错了，请稍后再试。', en: 'Something went wrong: please try again.' },
	'err.field': { zh: '“{field}”有误：', en: '{field}: ' },
	'err.otp': { zh: '请输入 6 位数字。', en: 'Enter 6 digits.' },
	'err.dep.conflict': { zh: '无法添加：已添加过该亲属、已达 5 位上限，或该未成年人已有 2 位监护人。', en: 'Cannot add: already added, five relatives already, or the child has two guardians already.' },
	'err.dep.code': { zh: '该亲属码暂不可用（等待对方同意或证件核验，或关联已结束）。', en: "This relative's code is not available (waiting for consent or for a document check, or the link has ended)." },
	'err.guardian.gone': { zh: '该关联已不再有效，无需撤回。', en: 'This link is no longer active: there is nothing to withdraw.' },

	// navigation
	'nav.code': { zh: '亮码', en: 'Code' },
	'nav.status': { zh: '状态', en: 'Status' },
	'nav.scans': { zh: '记录', en: 'Records' },
	'nav.relatives': { zh: '亲属', en: 'Family' },
	'nav.appeals': { zh: '申诉', en: 'Appeals' },
	'nav.declare': { zh: '申报', en: 'Declare' },

	// the code
	'code.mine': { zh: '本人', en: 'Me' },
	'code.for': { zh: '为 {name} 出示', en: "Showing {name}'s code" },
	'code.backToMine': { zh: '切回本人', en: 'Back to my code' },
	'code.countdown': { zh: '有效期剩余 {s} 秒', en: 'Valid for {s} s' },
	'code.renewing': { zh: '正在更新…', en: 'Renewing…' },
	'code.refresh': { zh: '刷新', en: 'Refresh' },
	'code.alt': { zh: '健康码二维码', en: 'Health code QR' },
	'code.hint': { zh: '请向工作人员出示此码，截图无效。', en: 'Show this code to staff; screenshots are not valid.' },
	'code.failed': { zh: '无法获取健康码。', en: 'Could not get a code.' },
	'code.reasons': { zh: '查看原因', en: 'Why this colour' },

	// status
	'status.title': { zh: '健康码状态', en: 'Code status' },
	'status.since': { zh: '自 {t} 起', en: 'Since {t}' },
	'status.review': { zh: '预计 {t} 复核（如无新情况将自动变更）', en: 'Reviewed on {t} (changes by itself unless something new happens)' },
	'status.noReview': { zh: '无自动变更日期', en: 'No automatic review date' },
	'status.reasons': { zh: '原因', en: 'Reasons' },
	'status.noReasons': { zh: '无异常记录。', en: 'Nothing on record.' },
	'status.until': { zh: '有效至 {t}', en: 'Until {t}' },
	'status.overrides': { zh: '取代按规则赋予的{c}：', en: 'In place of {c} by the rules:' },
	'status.records': { zh: '相关记录', en: 'Records' },
	'status.appeal': { zh: '对结果有异议？申诉', en: 'Disagree? File an appeal' },
	'status.history': { zh: '变更历史', en: 'History' },
	'list.sep': { zh: '；', en: '; ' },

	// scans and access log
	'scans.tab': { zh: '扫码记录', en: 'Scans' },
	'access.tab': { zh: '信息查阅记录', en: 'Who read my data' },
	'scans.lead': { zh: '最近 100 次扫码。', en: 'The latest 100 scans of your code.' },
	'access.lead': { zh: '谁在何时因何查看了您的完整个人信息。', en: 'Who saw your full personal data, when and why.' },
	'scans.place': { zh: '地点', en: 'Place' },
	'scans.time': { zh: '时间', en: 'Time' },
	'scans.result': { zh: '结果', en: 'Result' },
	'access.by': { zh: '查阅方', en: 'By' },
	'access.why': { zh: '事由', en: 'Why' },
	'access.staff': { zh: '工作人员（{role}）', en: 'Staff ({role})' },
	'action.scan.unmasked': { zh: '扫码显示实名信息', en: 'Scan showing full name' },
	'role.admin': { zh: '管理员', en: 'administrator' },
	'role.operator': { zh: '12345 热线', en: '12345 hotline' },
	'role.handler': { zh: '申诉处理', en: 'appeals handler' },
	'role.epidemiologist': { zh: '流调人员', en: 'epidemiologist' },
	'role.security': { zh: '安全审计', en: 'security' },

	// relatives
	'rel.title': { zh: '亲属码', en: "Relatives' codes" },
	'rel.lead': { zh: '为没有手机的老人、儿童出示健康码（最多 5 位）。户籍登记您为监护人的未成年人立即生效，否则需经 12345 热线核验出生医学证明或户口簿；成年人需本人同意。', en: 'Show codes for a child or an elder without a phone (up to 5). A child is linked at once if the population register names you as their guardian, otherwise once the 12345 hotline has checked their birth certificate or household register; an adult must agree first.' },
	'rel.add': { zh: '添加亲属', en: 'Add a relative' },
	'rel.name': { zh: '亲属姓名', en: "Relative's full name" },
	'rel.id': { zh: '亲属身份证号', en: "Relative's ID number" },
	'rel.relation': { zh: '关系', en: 'Relation' },
	'rel.submit': { zh: '添加', en: 'Add' },
	'rel.added': { zh: '已添加 {name}。', en: '{name} added.' },
	'rel.addedPending': { zh: '已向 {name} 发出请求，对方同意后生效。', en: 'Request sent: the link works once {name} agrees.' },
	'rel.addedPendingDoc': { zh: '户籍登记中您不是 {name} 的监护人：请携出生医学证明或户口簿致电 12345，告知关联编号 {id}，核验后生效。', en: 'The population register does not name you as the guardian of {name}: call 12345 with their birth certificate or household register and give link number {id}; the link works once it is checked.' },
	'rel.pendingDoc': { zh: '待核验证件：请致电 12345，告知关联编号 {id}', en: 'Waiting for a document check: call 12345 with link number {id}' },
	'rel.show': { zh: '出示亲属码', en: 'Show code' },
	'rel.remove': { zh: '移除', en: 'Remove' },
	'rel.removeConfirm': { zh: '确认移除', en: 'Confirm removal' },
	'rel.removed': { zh: '已移除。', en: 'Removed.' },
	'rel.none': { zh: '还没有添加亲属。', en: 'No relatives yet.' },
	'rel.minorUntil': { zh: '未成年，至 {t} 自动结束', en: 'Minor: ends {t}' },
	'rel.requests': { zh: '请求我同意的', en: 'Requests for my consent' },
	'rel.requestsLead': { zh: '以下账号申请为您出示健康码：', en: 'These people ask to show your code for you:' },
	'rel.requestFrom': { zh: '{name}（{id}）申请作为您的亲属（{relation}）', en: '{name} ({id}) asks to show your code (you are their {relation})' },
	'rel.accept': { zh: '同意', en: 'Accept' },
	'rel.decline': { zh: '拒绝', en: 'Decline' },
	'rel.accepted': { zh: '已同意。', en: 'Accepted.' },
	'rel.declined': { zh: '已拒绝。', en: 'Declined.' },
	'rel.guardians': { zh: '谁可以为我出示健康码', en: 'Who can show my code' },
	'rel.guardiansLead': { zh: '您同意过的亲属可以为您出示健康码。您可以随时撤回同意，对方手中的亲属码立即失效。', en: 'The people you agreed to can show your code for you. You can withdraw at any time: the code they hold stops working at once.' },
	'rel.guardianOf': { zh: '{name}（{id}），您是其{relation}', en: '{name} ({id}); you are their {relation}' },
	'rel.since': { zh: '自 {t} 起', en: 'Since {t}' },
	'rel.withdraw': { zh: '撤回同意', en: 'Withdraw' },
	'rel.withdrawConfirm': { zh: '确认撤回', en: 'Confirm withdrawal' },
	'rel.withdrawn': { zh: '已撤回，对方不能再为您出示健康码。', en: 'Withdrawn: they can no longer show your code.' },
	'link.pending': { zh: '待对方同意', en: 'Waiting for consent' },
	'link.pendingDoc': { zh: '待核验证件', en: 'Waiting for a document check' },
	'link.withdrawn': { zh: '对方已撤回同意', en: 'Consent withdrawn' },
	'link.active': { zh: '已关联', en: 'Active' },
	'link.declined': { zh: '对方已拒绝', en: 'Declined' },
	'link.removed': { zh: '已移除', en: 'Removed' },
	'link.ended': { zh: '已结束', en: 'Ended' },

	// appeals
	'ap.title': { zh: '申诉（信息纠错）', en: 'Appeals' },
	'ap.lead': { zh: '认为健康码颜色有误，可提交申诉，24 小时内答复。', en: 'If you think your colour is wrong, file an appeal: you get an answer within 24 hours.' },
	'ap.new': { zh: '我要申诉', en: 'File an appeal' },
	'ap.reason': { zh: '申诉事由（200 字节以内）', en: 'What is wrong (up to 200 bytes)' },
	'ap.details': { zh: '详细说明（选填）', en: 'Details (optional)' },
	'ap.submit': { zh: '提交申诉', en: 'Submit' },
	'ap.filed': { zh: '申诉已提交，编号 {id}。', en: 'Appeal {id} filed.' },
	'ap.none': { zh: '没有申诉记录。', en: 'No appeals.' },
	'ap.filedAt': { zh: '提交于 {t}', en: 'Filed {t}' },
	'ap.dueAt': { zh: '答复期限 {t}', en: 'Due {t}' },
	'ap.number': { zh: '申诉 #{id}', en: 'Appeal #{id}' },
	'ap.decision': { zh: '处理结果', en: 'Decision' },
	'ap.newColor': { zh: '调整为 {color}，至 {t}', en: 'Colour set to {color} until {t}' },
	'ap.timeline': { zh: '办理进度', en: 'Progress' },
	'ap.open': { zh: '详情', en: 'Details' },
	'ap.channel': { zh: '渠道：{c}', en: 'Channel: {c}' },
	'state.submitted': { zh: '已提交', en: 'Submitted' },
	'state.assigned': { zh: '已受理', en: 'Taken up' },
	'state.checking': { zh: '核查中', en: 'Being checked' },
	'state.upheld': { zh: '申诉成立', en: 'Upheld' },
	'state.rejected': { zh: '未予支持', en: 'Rejected' },
	'state.closed': { zh: '已办结', en: 'Closed' },
	'step.filed': { zh: '提交申诉', en: 'Filed' },
	'step.claimed': { zh: '工作人员受理', en: 'Taken up by a handler' },
	'step.checked.data': { zh: '部门数据核查', en: 'Department data checked' },
	'step.checked.grassroots': { zh: '基层核实', en: 'Checked locally' },
	'step.checked': { zh: '核查', en: 'Checked' },
	'step.decided': { zh: '作出决定', en: 'Decided' },
	'step.decidedAs': { zh: '作出决定：{state}', en: 'Decided: {state}' },
	'step.closed': { zh: '办结', en: 'Closed' },
	'actor.citizen': { zh: '本人', en: 'you' },
	'actor.staff': { zh: '工作人员', en: 'staff' },
	'channel.web': { zh: '网页', en: 'web' },
	'channel.app': { zh: 'App', en: 'app' },
	'channel.wechat': { zh: '微信', en: 'WeChat' },
	'channel.alipay': { zh: '支付宝', en: 'Alipay' },
	'channel.hotline': { zh: '12345 热线', en: '12345 hotline' },

	// declarations
	'dec.title': { zh: '健康与行程申报', en: 'Declarations' },
	'dec.lead': { zh: '请如实申报，申报内容将作为您的健康信息记录。', en: 'Please declare truthfully: what you declare is kept as part of your health record.' },
	'dec.health': { zh: '健康申报', en: 'Health' },
	'dec.trip': { zh: '行程申报', en: 'Trip' },
	'dec.temperature': { zh: '体温（℃）', en: 'Temperature (°C)' },
	'dec.symptoms': { zh: '症状（可多选）', en: 'Symptoms (any that apply)' },
	'dec.otherSymptom': { zh: '其他症状（选填）', en: 'Other symptom (optional)' },
	'dec.places': { zh: '到访地区（行政区划代码，用逗号或空格分隔）', en: 'Places visited (division codes, separated by commas or spaces)' },
	'dec.placesHint': { zh: '例如 310101（黄浦区）、320581（常熟市）。', en: 'For example 310101 (Huangpu), 320581 (Changshu).' },
	'dec.submit': { zh: '提交申报', en: 'Submit' },
	'dec.done': { zh: '申报已提交，谢谢。', en: 'Declaration received, thank you.' },
	'sym.fever': { zh: '发热', en: 'fever' },
	'sym.cough': { zh: '咳嗽', en: 'cough' },
	'sym.sore_throat': { zh: '咽痛', en: 'sore throat' },
	'sym.fatigue': { zh: '乏力', en: 'fatigue' },
	'sym.loss_of_smell': { zh: '嗅觉减退', en: 'loss of smell' },
	'sym.diarrhea': { zh: '腹泻', en: 'diarrhoea' },

	// records behind a colour
	'kind.confirmed_case': { zh: '确诊病例', en: 'confirmed case' },
	'kind.suspected_case': { zh: '疑似病例', en: 'suspected case' },
	'kind.recovered': { zh: '已康复', en: 'recovered' },
	'kind.close_contact': { zh: '密切接触', en: 'close contact' },
	'kind.secondary_contact': { zh: '次密接', en: 'secondary contact' },
	'kind.quarantine_start': { zh: '开始隔离', en: 'quarantine start' },
	'kind.quarantine_end': { zh: '解除隔离', en: 'quarantine end' },
	'kind.risk_area_visit': { zh: '到访风险地区', en: 'risk area visit' },
	'kind.test_result': { zh: '检测结果', en: 'test result' },
	'kind.vaccination': { zh: '疫苗接种', en: 'vaccination' },
	'kind.inbound_travel': { zh: '入境', en: 'inbound travel' },
	'kind.health_declaration': { zh: '健康申报', en: 'health declaration' },
	'kind.trip_declaration': { zh: '行程申报', en: 'trip declaration' },
	'kind.manual_override': { zh: '人工设定', en: 'set by hand' },
};

export const t = translator(dict);

// Text nodes and attributes that follow the language; forgotten once they leave the page (at a language switch,
// and as new ones are bound). A node is made before it is put on the page, so one not on the page is let go only
// once it is a while old (views attach what they build at once).
const bound = new Set();
const GRACE = 2000; // ms
let prunedAt = 0;

function prune(now) {
	prunedAt = now;
	for (const b of bound) if (now - b.at >= GRACE && !(b.node || b.el).isConnected) bound.delete(b);
}

function bind(b) {
	const now = Date.now();
	if (now - prunedAt >= GRACE) prune(now);
	bound.add({ ...b, at: now });
}

export function L(key, vars) {
	const node = document.createTextNode(t(key, vars));
	bind({ node, key, vars });
	return node;
}

export function La(el, attr, key, vars) {
	el.setAttribute(attr, t(key, vars));
	bind({ el, attr, key, vars });
	return el;
}

onLang(() => {
	for (const b of bound) {
		const target = b.node || b.el;
		if (!target.isConnected) {
			bound.delete(b);
			continue;
		}
		if (b.node) b.node.data = t(b.key, b.vars);
		else b.el.setAttribute(b.attr, t(b.key, b.vars));
	}
});
