/*
 * division: administrative division codes (GB/T 2260) as found in identity
 * card numbers.
 *
 * Known: every province-level division (including Hong Kong 81, Macao 82 and
 * Taiwan 71, and 83 of residence permits), the 16 districts of Shanghai, and
 * Shanghai's retired district and county codes, which live on in the ID numbers
 * of people born there. Shanghai codes must be one of those; for other
 * provinces a code is accepted when its province is known and its prefecture
 * and county parts are in range: prefecture 01-70 or 90, county 00-99 (a full
 * national table can replace this without changing the interface). A
 * province's own code ("110000") is accepted everywhere; 71, 81, 82 and 83 are
 * accepted only as such ("810000"), the only form ID numbers have there.
 * Pure functions over static tables; thread-safe.
 */
#ifndef SS_CORE_DIVISION_H
#define SS_CORE_DIVISION_H

#include <stdbool.h>

/* True if the 6 digits at code are an acceptable division code. */
bool ss_division_is_valid(const char code[6]);

/*
 * Chinese name for a valid code: the district or county for a Shanghai code
 * (current or retired, e.g. "310103" -> "卢湾区"), the province for any other
 * ("320581" -> "江苏省", "310000" -> "上海市"); NULL if the code is not valid.
 */
const char *ss_division_name(const char code[6]);

/* The current Shanghai districts: their count, and the i-th one's (0 <= i < count) code, Chinese and English names. */
int ss_division_shanghai_count(void);
void ss_division_shanghai_at(int i, const char **code, const char **name_zh, const char **name_en);

#endif
