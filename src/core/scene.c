/* scene: the table of scenes and what each may see (see scene.h). */
#include "core/scene.h"

#include <string.h>

static const struct ss_scene scenes[] = {
        {1, "checkpoint", "卡口", SS_SEE_NAME_MASKED},      {2, "community", "小区", SS_SEE_NAME_MASKED},
        {3, "venue", "场所", SS_SEE_NAME_MASKED},           {4, "hospital", "医院", SS_SEE_NAME | SS_SEE_ID_MASKED},
        {5, "transit", "公交地铁轮渡", SS_SEE_NAME_MASKED}, {6, "pool", "游泳场馆", SS_SEE_NAME_MASKED},
};

#define NSCENES ((int)(sizeof(scenes) / sizeof(scenes[0])))

const struct ss_scene *ss_scene_find(const char *name)
{
	for (int i = 0; i < NSCENES; i++)
		if (!strcmp(scenes[i].name, name))
			return &scenes[i];
	return NULL;
}

const struct ss_scene *ss_scene_by_id(int id)
{
	for (int i = 0; i < NSCENES; i++)
		if (scenes[i].id == id)
			return &scenes[i];
	return NULL;
}

int ss_scene_count(void)
{
	return NSCENES;
}

const struct ss_scene *ss_scene_at(int i)
{
	return i >= 0 && i < NSCENES ? &scenes[i] : NULL;
}
