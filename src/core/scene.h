/*
 * scene: where codes are scanned, and what each kind of place may see (least
 * data). Scenes are data: the table in scene.c names each scene and the
 * fields of the holder it is shown; adding a scene is adding a row.
 *
 *   checkpoint, community, venue, pool, transit: the name, masked (张*)
 *   hospital: the full name and the ID number masked to its first and last 2
 *
 * Pure functions over a static table; thread-safe.
 */
#ifndef SS_CORE_SCENE_H
#define SS_CORE_SCENE_H

#include <stdbool.h>

enum ss_scene_field {
	SS_SEE_NAME_MASKED = 1 << 0,
	SS_SEE_NAME = 1 << 1,
	SS_SEE_ID_MASKED = 1 << 2,
};

struct ss_scene {
	int id;            /* stored with each scan; never reused */
	const char *name;  /* "checkpoint", ... */
	const char *label; /* Chinese label for people */
	unsigned sees;     /* enum ss_scene_field bits */
};

/* The scene named name, or NULL. */
const struct ss_scene *ss_scene_find(const char *name);

/* The scene with id, or NULL. */
const struct ss_scene *ss_scene_by_id(int id);

/* Scenes in the table: count and the i-th. */
int ss_scene_count(void);
const struct ss_scene *ss_scene_at(int i);

#endif
