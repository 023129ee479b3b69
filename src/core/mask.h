/*
 * mask: how personal data is shown when a scene or a screen does not need it
 * whole. Names keep their first character and show '*' for each other
 * character (张三 -> 张*, 欧阳小明 -> 欧***); ID numbers keep their first 2 and
 * last 2 characters; phone numbers their first 3 and last 4. Pure functions.
 */
#ifndef SS_CORE_MASK_H
#define SS_CORE_MASK_H

#include <stddef.h>

#define SS_MASK_MAX 80

/* Masks a UTF-8 name into out (SS_MASK_MAX bytes). */
void ss_mask_name(const char *name, char out[SS_MASK_MAX]);

/* Masks an ID number into out. */
void ss_mask_id(const char *id, char out[SS_MASK_MAX]);

/* Masks a phone number into out. */
void ss_mask_phone(const char *phone, char out[SS_MASK_MAX]);

#endif
