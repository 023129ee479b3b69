// strings: every word the terminal page shows, in Chinese (the default) and English.
import { LABELS } from '../common/labels.js';
import { translator } from '../common/i18n.js';

export const t = translator({
	...LABELS,
	title: { zh: '验码终端', en: 'Code checker' },
	switchLang: { zh: 'English', en: '中文' },
	// setup
	setupTitle: { zh: '终端设置', en: 'Set up this terminal' },
	setupIntro: {
		zh: '输入管理员创建终端时得到的终端编号和密钥（64 位十六进制，只显示一次）。它们只保存在这台设备的浏览器里。',
		en: 'Enter the terminal id and the secret (64 hex characters, shown once) that the administrator got when creating this terminal. They are kept in this device\'s browser only.',
	},
	setupId: { zh: '终端编号', en: 'Terminal id' },
	setupSecret: { zh: '终端密钥', en: 'Terminal secret' },
	setupSubmit: { zh: '验证并保存', en: 'Check and save' },
	setupChecking: { zh: '正在验证…', en: 'Checking…' },
	badId: { zh: '终端编号应为正整数', en: 'The terminal id is a positive whole number' },
	badSecret: { zh: '密钥应为 64 个十六进制字符（0-9、a-f）', en: 'The secret is 64 hex characters (0-9, a-f)' },
	setupRefused: {
		zh: '服务器不认可此终端编号和密钥。未保存。',
		en: 'The server does not accept this terminal id and secret. Nothing was saved.',
	},
	setupClock: {
		zh: '本机时钟与服务器相差约 {min} 分钟，服务器因此拒绝。请校准时钟后重试。未保存。',
		en: 'This device\'s clock is about {min} min off the server\'s, so the server refuses. Set the clock right and try again. Nothing was saved.',
	},
	setupFailed: { zh: '验证失败：{msg}。未保存。', en: 'Could not check: {msg}. Nothing was saved.' },
	// header
	reset: { zh: '重置终端', en: 'Reset terminal' },
	resetConfirm: {
		zh: '确定重置？本设备将忘记终端编号和密钥，需重新输入才能验码。',
		en: 'Reset? This device forgets the terminal id and secret; they must be entered again to check codes.',
	},
	resetYes: { zh: '确定重置', en: 'Reset' },
	cancel: { zh: '取消', en: 'Cancel' },
	terminalNo: { zh: '终端 {id}', en: 'Terminal {id}' },
	authProblem: {
		zh: '终端认证失败：服务器不认可保存的密钥。请重置终端后重新输入。',
		en: 'Terminal not accepted: the server refuses the saved secret. Reset the terminal and enter it again.',
	},
	clockProblem: {
		zh: '本机时钟与服务器相差约 {min} 分钟，验码请求会被拒绝。请校准本机时钟。',
		en: 'This device\'s clock is about {min} min off the server\'s: scans will be refused. Set the clock right.',
	},
	offline: { zh: '暂时无法连接服务器，将继续重试。', en: 'Cannot reach the server for now; still trying.' },
	// scanning
	scanLabel: { zh: '扫码枪 / 手动输入码', en: 'Scanner / type a code' },
	scanPlaceholder: { zh: '扫码或输入后按回车', en: 'Scan, or type and press Enter' },
	scanSubmit: { zh: '查验', en: 'Check' },
	cameraStarting: { zh: '正在打开摄像头…', en: 'Starting the camera…' },
	cameraOn: { zh: '请将随申码对准框内', en: 'Hold the code inside the frame' },
	cameraDenied: {
		zh: '摄像头未获允许。可使用扫码枪或手动输入。',
		en: 'The camera was not allowed. Use the scanner or type the code.',
	},
	cameraAbsent: { zh: '未找到摄像头。可使用扫码枪或手动输入。', en: 'No camera found. Use the scanner or type the code.' },
	cameraFailed: { zh: '摄像头无法使用。可使用扫码枪或手动输入。', en: 'The camera cannot be used. Use the scanner or type the code.' },
	recent: { zh: '最近查验', en: 'Recent checks' },
	recentNone: { zh: '暂无', en: 'None yet' },
	checking: { zh: '查验中…', en: 'Checking…' },
	// results: the colours and the short words of the recent list are the shared result.* (common/labels.js). The
	// big word across the screen has its own longer forms for the three that are not a colour: the guard reads it
	// from a step away and acts on it (ask for a fresh code), so "Expired" or "Unknown" alone would say too little.
	'word.expired': { zh: '已过期，请刷新', en: 'Expired: ask for a fresh code' },
	'word.invalid': { zh: '无效码', en: 'Invalid code' },
	'word.unknown': { zh: '未知码', en: 'Unknown code' },
	expiredDetail: { zh: '请出示者刷新随申码后重新扫描', en: 'The code is out of date: refresh it and scan again' },
	invalidDetail: { zh: '此码不是有效的随申码，可能被篡改', en: 'This is not a genuine code; it may have been altered' },
	unknownDetail: {
		zh: '码的持有人已无有效随申码，或亲属关系已解除',
		en: 'Its holder no longer has a code, or the relative\'s link has ended',
	},
	error: { zh: '未能查验', en: 'Not checked' },
	presentedBy: { zh: '由 {name}（{relation}）出示', en: 'Presented by {name} ({relation})' },
	errNetwork: { zh: '无法连接服务器，请再扫一次', en: 'Cannot reach the server: scan again' },
	errAuth: {
		zh: '终端认证失败（401）：服务器不认可此终端的密钥',
		en: 'Terminal not accepted (401): the server refuses this terminal\'s secret',
	},
	errClock: {
		zh: '终端认证失败（401）：本机时钟与服务器相差约 {min} 分钟',
		en: 'Terminal not accepted (401): this device\'s clock is about {min} min off',
	},
	errTimeout: { zh: '服务器未及时回答，请再扫一次', en: 'No answer from the server in time: scan again' },
	errBusy: { zh: '服务器繁忙，请再扫一次', en: 'The server is busy: scan again' },
	errOther: { zh: '服务器拒绝（{status}）：{msg}', en: 'Refused by the server ({status}): {msg}' },
	tapToClose: { zh: '点击返回扫码', en: 'Tap to go back to scanning' },
});
