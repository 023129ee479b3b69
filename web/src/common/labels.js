// labels: the names of the API's fixed words (scenes, relations, scan results) in both languages, shared by the
// three pages so that a scene reads the same on a resident's phone, a terminal and the console. The Chinese names
// of the scenes are the server's own (src/core/scene.c, the `label` of GET /v1/staff/stats).
export const LABELS = {
	'scene.checkpoint': { zh: '卡口', en: 'Checkpoint' },
	'scene.community': { zh: '小区', en: 'Residential compound' },
	'scene.venue': { zh: '场所', en: 'Venue' },
	'scene.hospital': { zh: '医院', en: 'Hospital' },
	'scene.transit': { zh: '公交地铁轮渡', en: 'Public transport' },
	'scene.pool': { zh: '游泳场馆', en: 'Swimming pool' },
	'relation.child': { zh: '子女', en: 'child' },
	'relation.grandchild': { zh: '孙子女', en: 'grandchild' },
	'relation.parent': { zh: '父母', en: 'parent' },
	'relation.grandparent': { zh: '祖父母', en: 'grandparent' },
	'relation.spouse': { zh: '配偶', en: 'spouse' },
	'relation.other': { zh: '其他', en: 'other' },
	'result.green': { zh: '绿码', en: 'Green' },
	'result.yellow': { zh: '黄码', en: 'Yellow' },
	'result.red': { zh: '红码', en: 'Red' },
	'result.expired': { zh: '已过期', en: 'Expired' },
	'result.invalid': { zh: '无效码', en: 'Invalid' },
	'result.unknown': { zh: '未知', en: 'Unknown' },
};
