/*
 * store_sqlite: the embedded SQLite back end of the store (store.h).
 *
 * One connection in WAL mode with synchronous=FULL, so a commit is on disk
 * when it returns; a busy timeout rides out other processes (an import while
 * the server runs). Statements are prepared once and kept. A recursive mutex
 * serialises the connection: an operation holds it for its statement, a
 * transaction from begin to commit or rollback. The schema version is SQLite's
 * user_version; migrations (migration.h) above it are applied at open.
 */
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "store/migration.h"

#define BUSY_TIMEOUT_MS 10000

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_META_GET,
	ST_META_SET,
	ST_KEY_INSERT,
	ST_KEY_STATE,
	ST_KEY_EACH,
	ST_KEY_DEMOTE,
	ST_KEY_REWRAP,
	ST_PERSON_PUT,
	ST_PERSON_GET,
	ST_PERSON_COUNT,
	ST_PERSON_BY_ID,
	ST_PERSON_MAX,
	ST_GUARDIANS_CLEAR,
	ST_GUARDIAN_PUT,
	ST_GUARDIAN_GET,
	ST_CITIZEN_INSERT,
	ST_CITIZEN_BY_IDX,
	ST_CITIZEN_BY_ID,
	ST_CITIZEN_LOGIN_DONE,
	ST_LOGIN_CLAIM_GET,
	ST_LOGIN_CLAIM_SET,
	ST_LOGIN_CLEAR,
	ST_LOGIN_FORGET,
	ST_LOGIN_COUNT,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_PURGE,
	ST_SESSION_DELETE,
	ST_STAFF_INSERT,
	ST_STAFF_BY_TOKEN,
	ST_CITIZEN_EACH,
	ST_ORG_INSERT,
	ST_ORG_GET,
	ST_PLACE_INSERT,
	ST_PLACE_GET,
	ST_TERMINAL_INSERT,
	ST_TERMINAL_GET,
	ST_STATUS_PUT,
	ST_STATUS_HISTORY,
	ST_STATUS_GET,
	ST_STATUS_EACH,
	ST_SCAN_INSERT,
	ST_SCAN_MAX,
	ST_SCANS_OF_PERSON,
	ST_SCANS_OF_PERSON_DURING,
	ST_SCANS_AT_PLACE,
	ST_RULE_SET_CLEAR,
	ST_RULE_SET_PUT,
	ST_RULE_SET_ACTIVE,
	ST_STATUS_HISTORY_OF,
	ST_STATUS_CHANGES_AFTER,
	ST_STATUSES_DUE,
	ST_RECORD_PUT,
	ST_RECORDS_OF_PERSON,
	ST_RECORD_PEOPLE,
	ST_CLIENT_INSERT,
	ST_CLIENT_GET,
	ST_AUDIT_LAST,
	ST_AUDIT_INSERT,
	ST_AUDIT_EACH,
	ST_AUDIT_QUERY,
	ST_AUDIT_BY_SUBJECT,
	ST_AUDIT_CHECKPOINT_PUT,
	ST_AUDIT_CHECKPOINT_EACH,
	ST_SCANS_AFTER,
	ST_ALERT_PUT,
	ST_ALERTS_LIST,
	ST_ALERT_ACK,
	ST_DEPENDENT_INSERT,
	ST_DEPENDENT_GET,
	ST_DEPENDENT_SET_STATE,
	ST_DEPENDENT_EACH,
	ST_DEPENDENT_OF_GUARDIAN,
	ST_DEPENDENT_OF_PERSON,
	ST_APPEAL_INSERT,
	ST_APPEAL_GET,
	ST_APPEAL_UPDATE,
	ST_APPEAL_EVENT_INSERT,
	ST_APPEAL_EVENTS,
	ST_APPEALS_OF_PERSON,
	ST_APPEAL_QUEUE_ALL,
	ST_APPEAL_QUEUE_STATE,
	ST_APPEAL_COUNTS,
	ST_APPEAL_MEDIAN,
	ST_SCAN_COUNTS,
	ST_RESIDENTS_BY_DIVISION,
	ST_COLORS_BY_DIVISION,
	ST_NONCE_PUT,
	ST_NONCES_AFTER,
	ST_NONCE_OLDEST,
	ST_NONCE_PURGE,
	ST_DATA_VERSION,
	ST_RULE_JOB_INSERT,
	ST_RULE_JOB_GET,
	ST_RULE_JOB_UPDATE,
	ST_RULE_JOB_CHANGED,
	ST_RULE_JOB_CHANGE_PUT,
	ST_RULE_JOB_CHANGES,
	ST_RECORD_PEOPLE_COUNT,
	ST_COUNT
};

#define AUDIT_COLUMNS \
	"a.seq, a.at, a.actor, a.actor_id, a.action, a.subject, a.why, a.unmasked, a.detail, a.prev, a.hash"
/* who an entry's actor is, for people: a staff member's role and name, a terminal's organisation, place and scene */
#define AUDIT_WHO                                                                       \
	", st.role, st.name, o.name, p.name, t.scene FROM audit_log a "                 \
	"LEFT JOIN staff st ON a.actor = 'staff' AND st.staff_id = a.actor_id "         \
	"LEFT JOIN terminals t ON a.actor = 'terminal' AND t.terminal_id = a.actor_id " \
	"LEFT JOIN places p ON p.place_id = t.place_id LEFT JOIN orgs o ON o.org_id = p.org_id "
#define AUDIT_FILTER                                                                                                   \
	"(?1 IS NULL OR a.actor = ?1) AND (?2 = 0 OR a.actor_id = ?2) AND (?3 IS NULL OR a.action = ?3) AND "          \
	"(?5 = 0 OR a.at >= ?5) AND (?6 = 0 OR a.at <= ?6) AND (?7 = 0 OR a.unmasked = 1) AND (?8 = 0 OR a.seq < ?8) " \
	"ORDER BY a.seq DESC LIMIT ?9"

#define DEPENDENT_COLUMNS                                                                                      \
	"link_id, guardian_id, guardian_person_id, person_id, relation, state, adult_at, sealed, created_at, " \
	"changed_at, basis"

/* an appeal's columns without its blobs (store.h, struct ss_appeal_row) */
#define APPEAL_COLUMNS                                                                                            \
	"appeal_id, person_id, citizen_id, channel, filed_by, filed_by_id, state, filed_at, due_at, handler_id, " \
	"decision, decided_at, color, until"

static const char *const stmt_sql[ST_COUNT] = {
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_SAVEPOINT] = "SAVEPOINT nested",
        [ST_RELEASE] = "RELEASE nested",
        [ST_ROLLBACK_TO] = "ROLLBACK TO nested",
        [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
        [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [ST_KEY_INSERT] = "INSERT INTO keys (purpose, state, wrapped, created_at) VALUES (?1, ?2, ?3, ?4)",
        [ST_KEY_STATE] = "UPDATE keys SET state = ?2 WHERE key_id = ?1",
        [ST_KEY_EACH] = "SELECT key_id, purpose, state, wrapped, created_at FROM keys ORDER BY key_id",
        [ST_KEY_DEMOTE] = "UPDATE keys SET state = 'active' WHERE purpose = ?1 AND state = 'current'",
        [ST_KEY_REWRAP] = "UPDATE keys SET wrapped = ?2 WHERE key_id = ?1",
        [ST_PERSON_PUT] = "INSERT INTO population (idx, division, sealed, updated_at) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (idx) DO UPDATE SET division = excluded.division, sealed = excluded.sealed, "
                          "updated_at = excluded.updated_at RETURNING person_id",
        [ST_PERSON_GET] = "SELECT person_id, division, sealed, updated_at FROM population WHERE idx = ?1",
        [ST_PERSON_COUNT] = "SELECT count(*) FROM population",
        [ST_PERSON_BY_ID] = "SELECT person_id, division, sealed, updated_at, idx FROM population WHERE person_id = ?1",
        [ST_PERSON_MAX] = "SELECT coalesce(max(person_id), 0) FROM population",
        [ST_GUARDIANS_CLEAR] = "DELETE FROM registry_guardians WHERE person_id = ?1",
        [ST_GUARDIAN_PUT] = "INSERT INTO registry_guardians (person_id, guardian_idx) VALUES (?1, ?2) "
                            "ON CONFLICT DO NOTHING",
        [ST_GUARDIAN_GET] = "SELECT 1 FROM registry_guardians g JOIN population p ON p.idx = g.guardian_idx "
                            "WHERE g.person_id = ?1 AND p.person_id = ?2",
        [ST_CITIZEN_INSERT] = "INSERT INTO citizens (person_id, idx, sealed, totp_sealed, password_hash, channel, "
                              "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_CITIZEN_BY_IDX] = "SELECT citizen_id, person_id, idx, sealed, totp_sealed, password_hash, channel, "
                              "created_at, totp_last_step FROM citizens WHERE idx = ?1",
        [ST_CITIZEN_BY_ID] = "SELECT citizen_id, person_id, idx, sealed, totp_sealed, password_hash, channel, "
                             "created_at, totp_last_step FROM citizens WHERE citizen_id = ?1",
        [ST_CITIZEN_LOGIN_DONE] =
                "UPDATE citizens SET totp_last_step = ?2 WHERE citizen_id = ?1 AND totp_last_step < ?2",
        [ST_LOGIN_CLAIM_GET] = "SELECT failures, blocked_until, last_ms FROM login_throttle WHERE idx = ?1",
        [ST_LOGIN_CLAIM_SET] =
                "INSERT INTO login_throttle (idx, failures, blocked_until, last_ms) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (idx) DO UPDATE SET failures = excluded.failures, "
                "blocked_until = excluded.blocked_until, last_ms = excluded.last_ms",
        [ST_LOGIN_CLEAR] = "DELETE FROM login_throttle WHERE idx = ?1",
        /* one batch, oldest first, through the index on last_ms */
        [ST_LOGIN_FORGET] = "DELETE FROM login_throttle WHERE idx IN (SELECT idx FROM login_throttle "
                            "WHERE last_ms < ?1 AND blocked_until <= ?2 ORDER BY last_ms LIMIT ?3)",
        [ST_LOGIN_COUNT] = "SELECT count(*) FROM login_throttle",
        [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, citizen_id, channel, created_at, expires_at) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
        [ST_SESSION_GET] = "SELECT citizen_id, channel, created_at, expires_at FROM sessions WHERE token_hash = ?1",
        [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at < ?1",
        [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
        [ST_STAFF_INSERT] = "INSERT INTO staff (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        [ST_STAFF_BY_TOKEN] = "SELECT staff_id, name, role, created_at FROM staff WHERE token_hash = ?1",
        [ST_CITIZEN_EACH] = "SELECT citizen_id, person_id, sealed, created_at FROM citizens ORDER BY citizen_id",
        [ST_ORG_INSERT] = "INSERT INTO orgs (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        [ST_ORG_GET] = "SELECT org_id FROM orgs WHERE name = ?1",
        [ST_PLACE_INSERT] = "INSERT INTO places (org_id, name, division, created_at) VALUES (?1, ?2, ?3, ?4) "
                            "ON CONFLICT (org_id, name) DO NOTHING",
        [ST_PLACE_GET] = "SELECT place_id FROM places WHERE org_id = ?1 AND name = ?2",
        [ST_TERMINAL_INSERT] = "INSERT INTO terminals (place_id, scene, secret_sealed, created_by, created_at) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)",
        [ST_TERMINAL_GET] = "SELECT t.terminal_id, t.place_id, t.scene, t.secret_sealed, t.created_by, t.created_at, "
                            "t.disabled, p.name, o.name, p.division FROM terminals t JOIN places p USING (place_id) "
                            "JOIN orgs o USING (org_id) WHERE t.terminal_id = ?1",
        [ST_STATUS_PUT] =
                "INSERT INTO statuses (person_id, color, since, rule, reason, set_by, review_at, rule_set, fired) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (person_id) DO UPDATE SET "
                "color = excluded.color, since = excluded.since, rule = excluded.rule, reason = excluded.reason, "
                "set_by = excluded.set_by, review_at = excluded.review_at, rule_set = excluded.rule_set, "
                "fired = excluded.fired",
        [ST_STATUS_HISTORY] = "INSERT INTO status_history (person_id, color, since, rule, reason, set_by, review_at, "
                              "rule_set, fired) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        [ST_STATUS_GET] = "SELECT color, since, rule, reason, set_by, review_at, rule_set, fired FROM statuses "
                          "WHERE person_id = ?1",
        [ST_STATUS_EACH] = "SELECT person_id, color, since, rule, reason, set_by, review_at, rule_set, fired "
                           "FROM statuses",
        [ST_SCAN_INSERT] = "INSERT INTO scans (scan_id, terminal_id, place_id, scene, person_id, presenter_id, result, "
                           "key_id, scanned_at, code_issued_at, code_fingerprint) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [ST_SCAN_MAX] = "SELECT coalesce(max(scan_id), 0) FROM scans",
        [ST_SCANS_OF_PERSON] = "SELECT s.scan_id, s.terminal_id, s.place_id, s.scene, s.person_id, s.presenter_id, "
                               "s.result, s.key_id, s.scanned_at, p.name FROM scans s JOIN places p USING (place_id) "
                               "WHERE s.person_id = ?1 AND (?3 = 0 OR s.presenter_id IS NOT NULL) "
                               "ORDER BY s.scanned_at DESC, s.scan_id DESC LIMIT ?2",
        [ST_SCANS_OF_PERSON_DURING] = "SELECT s.scan_id, s.terminal_id, s.place_id, s.scene, s.person_id, "
                                      "s.presenter_id, s.result, s.key_id, s.scanned_at, p.name FROM scans s "
                                      "JOIN places p USING (place_id) WHERE s.person_id = ?1 AND s.scanned_at "
                                      "BETWEEN ?2 AND ?3 ORDER BY s.scanned_at, s.scan_id LIMIT ?4",
        [ST_SCANS_AT_PLACE] = "SELECT person_id, presenter_id, scanned_at FROM scans INDEXED BY scans_place "
                              "WHERE place_id = ?1 AND scanned_at BETWEEN ?2 AND ?3 AND person_id IS NOT NULL "
                              "ORDER BY scanned_at LIMIT ?4",
        [ST_RULE_SET_CLEAR] = "UPDATE rule_sets SET active = 0 WHERE active = 1",
        [ST_RULE_SET_PUT] = "INSERT INTO rule_sets (version, text, loaded_at, active) VALUES (?1, ?2, ?3, 1) "
                            "ON CONFLICT (version) DO UPDATE SET text = excluded.text, "
                            "loaded_at = excluded.loaded_at, active = 1",
        [ST_RULE_SET_ACTIVE] = "SELECT version, text FROM rule_sets WHERE active = 1",
        [ST_STATUS_HISTORY_OF] = "SELECT color, since, rule, reason, set_by, review_at, rule_set, fired, change_id "
                                 "FROM status_history WHERE person_id = ?1 ORDER BY change_id DESC LIMIT ?2",
        [ST_STATUS_CHANGES_AFTER] = "SELECT color, since, rule, reason, set_by, review_at, rule_set, fired, "
                                    "change_id, person_id FROM status_history WHERE change_id > ?1 "
                                    "ORDER BY change_id",
        [ST_STATUSES_DUE] = "SELECT s.person_id, p.idx FROM statuses s JOIN population p USING (person_id) "
                            "WHERE s.review_at > 0 AND s.review_at <= ?1 ORDER BY s.review_at LIMIT ?2",
        [ST_RECORD_PUT] = "INSERT INTO records (record_key, idx, kind, source, occurred_at, sealed, received_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (record_key) DO NOTHING",
        [ST_RECORD_PEOPLE] = "SELECT p.person_id, p.idx, p.division FROM population p WHERE p.person_id > ?1 "
                             "AND EXISTS (SELECT 1 FROM records r WHERE r.idx = p.idx) ORDER BY p.person_id LIMIT ?2",
        [ST_RECORDS_OF_PERSON] = "SELECT record_seq, record_key, kind, source, occurred_at, sealed, received_at "
                                 "FROM records WHERE idx = ?1 ORDER BY occurred_at, record_seq",
        [ST_CLIENT_INSERT] = "INSERT INTO source_clients (source, name, secret_sealed, created_by, created_at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
        [ST_CLIENT_GET] = "SELECT client_id, source, name, secret_sealed, created_by, created_at, disabled "
                          "FROM source_clients WHERE client_id = ?1",
        [ST_AUDIT_LAST] = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        [ST_AUDIT_INSERT] = "INSERT INTO audit_log (seq, at, actor, actor_id, action, subject, why, unmasked, detail, "
                            "prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [ST_AUDIT_EACH] = "SELECT " AUDIT_COLUMNS " FROM audit_log a WHERE a.seq > ?1 ORDER BY a.seq LIMIT ?2",
        [ST_AUDIT_QUERY] = "SELECT " AUDIT_COLUMNS AUDIT_WHO "WHERE (?4 = 0 OR a.subject = ?4) AND " AUDIT_FILTER,
        [ST_AUDIT_BY_SUBJECT] = "SELECT " AUDIT_COLUMNS AUDIT_WHO "WHERE a.subject = ?4 AND " AUDIT_FILTER,
        [ST_AUDIT_CHECKPOINT_PUT] = "INSERT INTO audit_checkpoints (seq, hash, signature, at) VALUES (?1, ?2, ?3, ?4) "
                                    "ON CONFLICT (seq) DO NOTHING",
        [ST_AUDIT_CHECKPOINT_EACH] = "SELECT seq, hash, signature, at FROM audit_checkpoints ORDER BY seq",
        [ST_SCANS_AFTER] = "SELECT scan_id, terminal_id, place_id, scene, person_id, presenter_id, result, key_id, "
                           "scanned_at, code_issued_at, code_fingerprint FROM scans WHERE scan_id > ?1 "
                           "ORDER BY scan_id LIMIT ?2",
        [ST_ALERT_PUT] = "INSERT INTO alerts (kind, raised_at, subject, detail, person_id, presenter_id, staff_id, "
                         "place_id, other_place_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        /* what an alert is about, named: people's sealed particulars, places with their organisations, staff */
        [ST_ALERTS_LIST] = "SELECT a.alert_id, a.kind, a.raised_at, a.subject, a.detail, "
                           "coalesce(a.acknowledged_by, 0), coalesce(a.acknowledged_at, 0), "
                           "coalesce(a.person_id, 0), coalesce(a.presenter_id, 0), coalesce(a.staff_id, 0), "
                           "coalesce(a.place_id, 0), coalesce(a.other_place_id, 0), pp.sealed, pr.sealed, "
                           "o1.name, p1.name, o2.name, p2.name, st.name, st.role, ack.name FROM alerts a "
                           "LEFT JOIN population pp ON pp.person_id = a.person_id "
                           "LEFT JOIN population pr ON pr.person_id = a.presenter_id "
                           "LEFT JOIN places p1 ON p1.place_id = a.place_id "
                           "LEFT JOIN orgs o1 ON o1.org_id = p1.org_id "
                           "LEFT JOIN places p2 ON p2.place_id = a.other_place_id "
                           "LEFT JOIN orgs o2 ON o2.org_id = p2.org_id "
                           "LEFT JOIN staff st ON st.staff_id = a.staff_id "
                           "LEFT JOIN staff ack ON ack.staff_id = a.acknowledged_by "
                           "WHERE a.raised_at >= ?1 AND (?2 IS NULL OR a.kind = ?2) AND (?3 = 0 OR a.alert_id < ?3) "
                           "ORDER BY a.alert_id DESC LIMIT ?4",
        [ST_ALERT_ACK] = "UPDATE alerts SET acknowledged_by = coalesce(acknowledged_by, ?2), "
                         "acknowledged_at = coalesce(acknowledged_at, ?3) WHERE alert_id = ?1 "
                         "RETURNING acknowledged_by = ?2 AND acknowledged_at = ?3",
        [ST_DEPENDENT_INSERT] = "INSERT INTO dependent_links (guardian_id, guardian_person_id, person_id, relation, "
                                "state, adult_at, sealed, created_at, changed_at, basis) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [ST_DEPENDENT_GET] = "SELECT " DEPENDENT_COLUMNS " FROM dependent_links WHERE link_id = ?1",
        [ST_DEPENDENT_SET_STATE] = "UPDATE dependent_links SET state = ?3, changed_at = ?4, "
                                   "basis = coalesce(?5, basis) WHERE link_id = ?1 AND state = ?2",
        /* one statement per way in, so that each reads through its index */
        [ST_DEPENDENT_EACH] = "SELECT " DEPENDENT_COLUMNS " FROM dependent_links WHERE ?1 = 0 AND ?2 = 0 AND "
                              "(?3 IS NULL OR state = ?3) ORDER BY link_id",
        [ST_DEPENDENT_OF_GUARDIAN] = "SELECT " DEPENDENT_COLUMNS " FROM dependent_links WHERE guardian_id = ?1 "
                                     "AND (?2 = 0 OR person_id = ?2) AND (?3 IS NULL OR state = ?3) ORDER BY link_id",
        [ST_DEPENDENT_OF_PERSON] = "SELECT " DEPENDENT_COLUMNS " FROM dependent_links WHERE person_id = ?2 "
                                   "AND ?1 = 0 AND (?3 IS NULL OR state = ?3) ORDER BY link_id",
        /* appeals (core/appeals.h) */
        [ST_APPEAL_INSERT] = "INSERT INTO appeals (person_id, citizen_id, channel, filed_by, filed_by_id, state, "
                             "filed_at, due_at, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        [ST_APPEAL_GET] = "SELECT " APPEAL_COLUMNS ", sealed, data_check, grass_check, decision_sealed FROM appeals "
                          "WHERE appeal_id = ?1",
        [ST_APPEAL_UPDATE] = "UPDATE appeals SET state = ?2, handler_id = ?3, data_check = ?4, grass_check = ?5, "
                             "decision = ?6, decided_at = ?7, decision_secs = ?8, color = ?9, until = ?10, "
                             "decision_sealed = ?11 WHERE appeal_id = ?1",
        [ST_APPEAL_EVENT_INSERT] = "INSERT INTO appeal_events (appeal_id, at, action, kind, state, actor, actor_id) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_APPEAL_EVENTS] = "SELECT at, action, kind, state, actor, actor_id FROM appeal_events "
                             "WHERE appeal_id = ?1 ORDER BY event_id",
        [ST_APPEALS_OF_PERSON] = "SELECT " APPEAL_COLUMNS ", sealed, data_check, grass_check, decision_sealed "
                                 "FROM appeals WHERE person_id = ?1 ORDER BY appeal_id DESC LIMIT ?2",
        [ST_APPEAL_QUEUE_ALL] = "SELECT " APPEAL_COLUMNS " FROM appeals INDEXED BY appeals_due "
                                "WHERE (due_at, appeal_id) > (?1, ?2) ORDER BY due_at, appeal_id LIMIT ?3",
        [ST_APPEAL_QUEUE_STATE] = "SELECT " APPEAL_COLUMNS " FROM appeals INDEXED BY appeals_queue "
                                  "WHERE state = ?4 AND (due_at, appeal_id) > (?1, ?2) "
                                  "ORDER BY due_at, appeal_id LIMIT ?3",
        [ST_APPEAL_COUNTS] = "SELECT (SELECT count(*) FROM appeals WHERE state IN "
                             "('submitted', 'assigned', 'checking')), (SELECT count(*) FROM appeals WHERE state IN "
                             "('submitted', 'assigned', 'checking') AND due_at < ?1), "
                             "(SELECT count(*) FROM appeals WHERE decision_secs IS NOT NULL)",
        [ST_APPEAL_MEDIAN] = "SELECT decision_secs FROM appeals INDEXED BY appeals_decision_secs "
                             "WHERE decision_secs IS NOT NULL ORDER BY decision_secs LIMIT ?2 OFFSET ?1",
        [ST_SCAN_COUNTS] = "SELECT (scanned_at - ?1) / ?3, scene, result, count(*) FROM scans INDEXED BY scans_time "
                           "WHERE scanned_at >= ?1 AND scanned_at < ?2 GROUP BY 1, 2, 3",
        [ST_RESIDENTS_BY_DIVISION] = "SELECT p.division, -1, count(*) FROM citizens c "
                                     "JOIN population p ON p.person_id = c.person_id GROUP BY 1",
        [ST_COLORS_BY_DIVISION] = "SELECT p.division, st.color, count(*) FROM statuses st "
                                  "JOIN citizens c ON c.person_id = st.person_id "
                                  "JOIN population p ON p.person_id = st.person_id WHERE st.color > 0 GROUP BY 1, 2",
        [ST_NONCE_PUT] = "INSERT INTO nonces (ts, key) VALUES (?1, ?2)",
        [ST_NONCES_AFTER] = "SELECT ts, key FROM nonces WHERE ts > ?1",
        [ST_NONCE_OLDEST] = "SELECT coalesce(min(ts), 0) FROM nonces",
        [ST_NONCE_PURGE] = "DELETE FROM nonces WHERE ts <= ?1",
        [ST_DATA_VERSION] = "PRAGMA data_version",
        /* rule jobs (core/rulejob.h) */
        [ST_RULE_JOB_INSERT] = "INSERT INTO rule_jobs (version, state, started_by, started_at, finished_at, "
                               "people_total, people_done, after, owner, heartbeat_ms, error) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        [ST_RULE_JOB_GET] = "SELECT job_id, version, state, started_by, started_at, finished_at, people_total, "
                            "people_done, changed, after, owner, heartbeat_ms, error FROM rule_jobs "
                            "WHERE ?1 = 0 OR job_id = ?1 ORDER BY job_id DESC LIMIT 1",
        [ST_RULE_JOB_UPDATE] = "UPDATE rule_jobs SET state = ?3, finished_at = ?4, people_total = ?5, "
                               "people_done = ?6, after = ?7, owner = ?8, heartbeat_ms = ?9, error = ?10 "
                               "WHERE job_id = ?1 AND owner = ?2 AND state = 'running'",
        [ST_RULE_JOB_CHANGED] = "UPDATE rule_jobs SET changed = changed + 1, after = ?3, people_done = ?4 "
                                "WHERE job_id = ?1 AND owner = ?2 AND state = 'running'",
        [ST_RULE_JOB_CHANGE_PUT] = "INSERT INTO rule_job_changes (job_id, division, from_color, to_color, count) "
                                   "VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (job_id, division, from_color, to_color) "
                                   "DO UPDATE SET count = count + 1",
        [ST_RULE_JOB_CHANGES] = "SELECT division, from_color, to_color, count FROM rule_job_changes "
                                "WHERE job_id = ?1 ORDER BY division, from_color, to_color",
        [ST_RECORD_PEOPLE_COUNT] = "SELECT count(*) FROM population p WHERE p.person_id > ?1 AND p.person_id <= ?2 "
                                   "AND EXISTS (SELECT 1 FROM records r WHERE r.idx = p.idx)",
};

/*
 * Re-sealing (store.h, SS_STORE_SEALED): per sealed column, its rows in id
 * order and a compare-and-set of one blob. Prepared when first used (a
 * re-seal is rare) and kept, as the others are.
 */
#define SEALED_ROWS(table, id, column, use)                                                                        \
	"SELECT " #id ", " #column " FROM " #table " WHERE " #id " > ?1 AND length(" #column ") > 0 ORDER BY " #id \
	" LIMIT ?2",
#define SEALED_REPLACE(table, id, column, use) \
	"UPDATE " #table " SET " #column " = ?3 WHERE " #id " = ?1 AND " #column " = ?2",
static const char *const sealed_rows_sql[SS_SEALED_COLUMNS] = {SS_STORE_SEALED(SEALED_ROWS)};
static const char *const sealed_replace_sql[SS_SEALED_COLUMNS] = {SS_STORE_SEALED(SEALED_REPLACE)};

/*
 * The fence: no blob that names a retiring or retired data key enters a
 * sealed column (a new one, or a changed one), whoever writes it. A process
 * whose key ring has not caught up with a rotation would otherwise seal under
 * the old key after a re-seal has emptied it (core/reseal.h): once that key
 * retired, its row would be unreadable. Temporary triggers, made by each
 * connection at open from SS_STORE_SEALED, so that the list has one place;
 * the key id is bytes 2-5 of a blob (crypto/keyring.h). Such a write fails
 * with FENCE_MESSAGE, which translate() makes SS_BUSY: the writer tries again
 * once its key ring has caught up.
 */
#define FENCE_MESSAGE "sealed under a retiring data key"
#define FENCED(column)                                                                                     \
	"EXISTS (SELECT 1 FROM main.keys WHERE purpose = 'data' AND state IN ('retiring', 'retired') AND " \
	"printf('%08X', key_id) = hex(substr(NEW." #column ", 2, 4)))"
#define FENCE(table, id, column, use)                                                                               \
	"CREATE TEMP TRIGGER fence_" #table "_" #column "_insert BEFORE INSERT ON main." #table                     \
	" WHEN " FENCED(column) " BEGIN SELECT RAISE(ABORT, '" FENCE_MESSAGE "'); END; "                            \
	                        "CREATE TEMP TRIGGER fence_" #table "_" #column "_update BEFORE UPDATE OF " #column \
	                        " ON main." #table " WHEN NEW." #column " IS NOT OLD." #column                      \
	                        " AND " FENCED(column) " BEGIN SELECT RAISE(ABORT, '" FENCE_MESSAGE "'); END; "
static const char fence_sql[] = SS_STORE_SEALED(FENCE);

struct sq {
	struct ss_store base;
	sqlite3 *db;
	pthread_mutex_t lock; /* recursive */
	int depth;            /* transactions begun and not ended, by the thread holding lock */
	sqlite3_stmt *stmts[ST_COUNT];
	sqlite3_stmt *sealed_stmts[SS_SEALED_COLUMNS][2]; /* sealed_rows_sql, sealed_replace_sql */
};

static struct sq *SQ(struct ss_store *s)
{
	return (struct sq *)s;
}

/* Translates a SQLite result into an ss_err, logging what is not the caller's fault. */
static enum ss_err translate(struct sq *q, int rc, const char *what)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return SS_OK;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_TRIGGER && strstr(sqlite3_errmsg(q->db), FENCE_MESSAGE)) {
			ss_log_warn("store_fenced",
			            "op=%s msg=\"a blob names a retiring data key: keys are reloading\"", what);
			return ss_fail(SS_BUSY, NULL, "the data keys are changing; try again");
		}
		return ss_fail(SS_CONFLICT, NULL, "already exists");
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		ss_log_warn("store_busy", "op=%s", what);
		return ss_fail(SS_BUSY, NULL, "the database is busy; try again");
	default:
		ss_log_error("store_error", "op=%s rc=%d msg=\"%s\"", what, rc, sqlite3_errmsg(q->db));
		return ss_fail(SS_INTERNAL, NULL, "storage error");
	}
}

static enum ss_err stmt(struct sq *q, enum stmt_id id, sqlite3_stmt **out)
{
	if (!stmt_sql[id])
		return ss_fail(SS_INTERNAL, NULL, "statement %d has no SQL", (int)id);
	if (!q->stmts[id]) {
		int rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &q->stmts[id], NULL);
		if (rc != SQLITE_OK)
			return translate(q, rc, "prepare");
	}
	*out = q->stmts[id];
	return SS_OK;
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_STATIC);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

static struct ss_blob col_blob(sqlite3_stmt *st, int i, struct ss_arena *a)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	uint8_t *copy = ss_arena_alloc(a, n ? n : 1);
	if (n)
		memcpy(copy, p, n);
	return (struct ss_blob){copy, n};
}

static const char *col_text(sqlite3_stmt *st, int i, struct ss_arena *a)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	return ss_arena_strdup(a, p ? p : "");
}

static void col_fixed(sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
	const void *p = sqlite3_column_blob(st, i);
	memset(out, 0, n);
	if (p && (size_t)sqlite3_column_bytes(st, i) == n)
		memcpy(out, p, n);
}

/* Runs a statement that returns no rows (or whose one row the caller ignores). */
static enum ss_err run(struct sq *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	enum ss_err err = translate(q, rc, what);
	done(st);
	return err;
}

static void sq_close(struct ss_store *s)
{
	struct sq *q = SQ(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->stmts[i]);
	for (int i = 0; i < SS_SEALED_COLUMNS; i++)
		for (int j = 0; j < 2; j++)
			sqlite3_finalize(q->sealed_stmts[i][j]);
	sqlite3_close(q->db);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/*
 * Transactions nest: the outermost is BEGIN IMMEDIATE .. COMMIT, an inner one
 * a savepoint, so that an operation that is a transaction of its own (a
 * status_put) can also be part of a caller's larger one. The lock is held
 * from the outermost begin to its end.
 */
static enum ss_err sq_begin(struct ss_store *s)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, q->depth ? ST_SAVEPOINT : ST_BEGIN, &st);
	if (!err)
		err = run(q, st, "begin");
	if (err) {
		pthread_mutex_unlock(&q->lock);
		return err;
	}
	q->depth++;
	return SS_OK;
}

static void sq_rollback(struct ss_store *s)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	if (--q->depth) {
		if (!stmt(q, ST_ROLLBACK_TO, &st))
			(void)run(q, st, "rollback");
		if (!stmt(q, ST_RELEASE, &st))
			(void)run(q, st, "rollback");
	} else if (!stmt(q, ST_ROLLBACK, &st)) {
		(void)run(q, st, "rollback");
	}
	pthread_mutex_unlock(&q->lock);
}

static enum ss_err sq_commit(struct ss_store *s)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = stmt(q, q->depth > 1 ? ST_RELEASE : ST_COMMIT, &st);
	if (!err)
		err = run(q, st, "commit");
	if (err) {
		sq_rollback(s);
		return err;
	}
	q->depth--;
	pthread_mutex_unlock(&q->lock);
	return SS_OK;
}

static enum ss_err sq_meta_get(struct ss_store *s, const char *key, struct ss_arena *a, struct ss_blob *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_META_GET, &st))) {
		bind_text(st, 1, key);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = col_blob(st, 0, a);
		else
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "meta_get");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_meta_set(struct ss_store *s, const char *key, struct ss_blob value)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_META_SET, &st))) {
		bind_text(st, 1, key);
		bind_blob(st, 2, value.p, value.n);
		err = run(q, st, "meta_set");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_key_insert(struct ss_store *s, const struct ss_key_row *row, int64_t *key_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_KEY_INSERT, &st))) {
		bind_text(st, 1, row->purpose);
		bind_text(st, 2, row->state);
		bind_blob(st, 3, row->wrapped.p, row->wrapped.n);
		sqlite3_bind_int64(st, 4, row->created_at);
		err = run(q, st, "key_insert");
		if (!err)
			*key_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_key_set_state(struct ss_store *s, int64_t key_id, const char *state)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_KEY_STATE, &st))) {
		sqlite3_bind_int64(st, 1, key_id);
		bind_text(st, 2, state);
		err = run(q, st, "key_set_state");
		if (!err && sqlite3_changes(q->db) == 0)
			err = ss_fail(SS_NOT_FOUND, "id", "no key %lld", (long long)key_id);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_key_demote_current(struct ss_store *s, const char *purpose)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_KEY_DEMOTE, &st))) {
		bind_text(st, 1, purpose);
		err = run(q, st, "key_demote_current");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_key_rewrap(struct ss_store *s, int64_t key_id, struct ss_blob wrapped)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_KEY_REWRAP, &st))) {
		sqlite3_bind_int64(st, 1, key_id);
		bind_blob(st, 2, wrapped.p, wrapped.n);
		err = run(q, st, "key_rewrap");
		if (!err && sqlite3_changes(q->db) == 0)
			err = ss_fail(SS_NOT_FOUND, "id", "no key %lld", (long long)key_id);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* The statement of sealed column col: its rows (replace false) or the replacement of one blob. */
static enum ss_err sealed_stmt(struct sq *q, enum ss_sealed_column col, bool replace, sqlite3_stmt **out)
{
	sqlite3_stmt **st = &q->sealed_stmts[col][replace];
	if (!*st) {
		const char *sql = replace ? sealed_replace_sql[col] : sealed_rows_sql[col];
		int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
		if (rc != SQLITE_OK)
			return translate(q, rc, "prepare");
	}
	*out = *st;
	return SS_OK;
}

static enum ss_err sq_sealed_rows(struct ss_store *s, enum ss_sealed_column col, int64_t after, int limit,
                                  struct ss_arena *a, enum ss_err (*fn)(void *ctx, int64_t id, struct ss_blob blob),
                                  void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t *ids = ss_malloc((size_t)(limit > 0 ? limit : 1) * sizeof(*ids));
	struct ss_blob *blobs = ss_malloc((size_t)(limit > 0 ? limit : 1) * sizeof(*blobs));
	int n = 0, rc;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = sealed_stmt(q, col, false, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(st, 0);
			blobs[n++] = col_blob(st, 1, a);
		}
		err = n == limit ? SS_OK : translate(q, rc, "sealed_rows");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	/* the batch is read before fn is called, so fn may write to the store */
	for (int i = 0; !err && i < n; i++)
		err = fn(ctx, ids[i], blobs[i]);
	free(ids);
	free(blobs);
	return err;
}

static enum ss_err sq_sealed_replace(struct ss_store *s, enum ss_sealed_column col, int64_t id, struct ss_blob old,
                                     struct ss_blob blob)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = sealed_stmt(q, col, true, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, id);
		bind_blob(st, 2, old.p, old.n);
		bind_blob(st, 3, blob.p, blob.n);
		err = run(q, st, "sealed_replace");
		if (!err && sqlite3_changes(q->db) == 0)
			err = SS_NOT_FOUND;
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_key_each(struct ss_store *s, enum ss_err (*fn)(void *ctx, const struct ss_key_row *row),
                               void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_KEY_EACH, &st))) {
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_key_row row = {
			        .key_id = sqlite3_column_int64(st, 0),
			        .purpose = (const char *)sqlite3_column_text(st, 1),
			        .state = (const char *)sqlite3_column_text(st, 2),
			        .wrapped = {sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3)},
			        .created_at = sqlite3_column_int64(st, 4),
			};
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "key_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_person_put(struct ss_store *s, const struct ss_person_row *row, int64_t *person_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_PERSON_PUT, &st))) {
		bind_blob(st, 1, row->idx, SS_INDEX_LEN);
		bind_text(st, 2, row->division);
		bind_blob(st, 3, row->sealed.p, row->sealed.n);
		sqlite3_bind_int64(st, 4, row->updated_at);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (person_id)
				*person_id = sqlite3_column_int64(st, 0);
			rc = sqlite3_step(st);
		}
		err = translate(q, rc, "person_put");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Runs a one-column integer query; SS_NOT_FOUND if it gives no row. */
static enum ss_err get_id(struct sq *q, sqlite3_stmt *st, int64_t *out, const char *what)
{
	int rc = sqlite3_step(st);
	enum ss_err err = SS_OK;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, what);
	done(st);
	return err;
}

/* A population row from columns person_id, division, sealed, updated_at (and idx at 4 if idx is NULL). */
static void read_person(sqlite3_stmt *st, const uint8_t *idx, struct ss_arena *a, struct ss_person_row *out)
{
	out->person_id = sqlite3_column_int64(st, 0);
	const char *div = (const char *)sqlite3_column_text(st, 1);
	snprintf(out->division, sizeof(out->division), "%s", div ? div : "");
	out->sealed = col_blob(st, 2, a);
	out->updated_at = sqlite3_column_int64(st, 3);
	if (!idx && sqlite3_column_bytes(st, 4) == SS_INDEX_LEN)
		idx = sqlite3_column_blob(st, 4);
	if (idx)
		memcpy(out->idx, idx, SS_INDEX_LEN);
	else
		memset(out->idx, 0, SS_INDEX_LEN);
}

static enum ss_err person_get(struct sq *q, enum stmt_id id, const uint8_t *idx, int64_t person_id, struct ss_arena *a,
                              struct ss_person_row *out)
{
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, id, &st))) {
		if (idx)
			bind_blob(st, 1, idx, SS_INDEX_LEN);
		else
			sqlite3_bind_int64(st, 1, person_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_person(st, idx, a, out);
		else
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "person_get");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_person_get(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                 struct ss_person_row *out)
{
	return person_get(SQ(s), ST_PERSON_GET, idx, 0, a, out);
}

static enum ss_err sq_person_by_id(struct ss_store *s, int64_t person_id, struct ss_arena *a, struct ss_person_row *out)
{
	return person_get(SQ(s), ST_PERSON_BY_ID, NULL, person_id, a, out);
}

static enum ss_err sq_person_max_id(struct ss_store *s, int64_t *person_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_PERSON_MAX, &st);
	if (!err)
		err = get_id(q, st, person_id, "person_max_id");
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_person_count(struct ss_store *s, int64_t *count)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_PERSON_COUNT, &st))) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*count = sqlite3_column_int64(st, 0);
		else
			err = translate(q, rc, "person_count");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_registry_guardians_set(struct ss_store *s, int64_t person_id, const uint8_t (*idx)[SS_INDEX_LEN],
                                             size_t n)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if (!(err = stmt(q, ST_GUARDIANS_CLEAR, &st))) {
		sqlite3_bind_int64(st, 1, person_id);
		err = run(q, st, "registry_guardians_set");
	}
	for (size_t i = 0; !err && i < n; i++) {
		if (!(err = stmt(q, ST_GUARDIAN_PUT, &st))) {
			sqlite3_bind_int64(st, 1, person_id);
			bind_blob(st, 2, idx[i], SS_INDEX_LEN);
			err = run(q, st, "registry_guardians_set");
		}
	}
	if (err) {
		sq_rollback(s);
		return err;
	}
	return sq_commit(s);
}

static enum ss_err sq_registry_guardian_get(struct ss_store *s, int64_t person_id, int64_t guardian_person_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t one;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_GUARDIAN_GET, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, person_id);
		sqlite3_bind_int64(st, 2, guardian_person_id);
		err = get_id(q, st, &one, "registry_guardian_get");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_citizen_insert(struct ss_store *s, const struct ss_citizen_row *row, int64_t *citizen_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_CITIZEN_INSERT, &st))) {
		sqlite3_bind_int64(st, 1, row->person_id);
		bind_blob(st, 2, row->idx, SS_INDEX_LEN);
		bind_blob(st, 3, row->sealed.p, row->sealed.n);
		bind_blob(st, 4, row->totp_sealed.p, row->totp_sealed.n);
		bind_text(st, 5, row->password_hash);
		bind_text(st, 6, row->channel);
		sqlite3_bind_int64(st, 7, row->created_at);
		err = run(q, st, "citizen_insert");
		if (!err)
			*citizen_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static void read_citizen(sqlite3_stmt *st, struct ss_arena *a, struct ss_citizen_row *out)
{
	out->citizen_id = sqlite3_column_int64(st, 0);
	out->person_id = sqlite3_column_int64(st, 1);
	col_fixed(st, 2, out->idx, SS_INDEX_LEN);
	out->sealed = col_blob(st, 3, a);
	out->totp_sealed = col_blob(st, 4, a);
	out->password_hash = col_text(st, 5, a);
	out->channel = col_text(st, 6, a);
	out->created_at = sqlite3_column_int64(st, 7);
	out->totp_last_step = sqlite3_column_int64(st, 8);
}

static enum ss_err citizen_get(struct sq *q, enum stmt_id id, const uint8_t *idx, int64_t citizen_id,
                               struct ss_arena *a, struct ss_citizen_row *out)
{
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, id, &st))) {
		if (idx)
			bind_blob(st, 1, idx, SS_INDEX_LEN);
		else
			sqlite3_bind_int64(st, 1, citizen_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_citizen(st, a, out);
		else
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "citizen_get");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_citizen_by_idx(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                     struct ss_citizen_row *out)
{
	return citizen_get(SQ(s), ST_CITIZEN_BY_IDX, idx, 0, a, out);
}

static enum ss_err sq_citizen_by_id(struct ss_store *s, int64_t citizen_id, struct ss_arena *a,
                                    struct ss_citizen_row *out)
{
	return citizen_get(SQ(s), ST_CITIZEN_BY_ID, NULL, citizen_id, a, out);
}

static enum ss_err sq_citizen_login_done(struct ss_store *s, int64_t citizen_id, int64_t totp_step)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_CITIZEN_LOGIN_DONE, &st))) {
		sqlite3_bind_int64(st, 1, citizen_id);
		sqlite3_bind_int64(st, 2, totp_step);
		err = run(q, st, "citizen_login_done");
		if (!err && sqlite3_changes(q->db) == 0)
			err = SS_CONFLICT;
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_login_claim(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], int64_t now_ms,
                                  int64_t forget_before_ms, int64_t (*delay_ms)(void *ctx, int64_t failures), void *ctx,
                                  int64_t *failures, int64_t *blocked_until)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_LOGIN_CLAIM_GET, &st)))
		goto fail;
	bind_blob(st, 1, idx, SS_INDEX_LEN);
	int64_t count = 0, until = 0;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 2) >= forget_before_ms) {
		count = sqlite3_column_int64(st, 0);
		until = sqlite3_column_int64(st, 1);
	}
	done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = translate(q, rc, "login_claim");
		goto fail;
	}
	if (until > now_ms) {
		*blocked_until = until;
		err = SS_RATE_LIMITED;
		goto fail;
	}
	count++;
	int64_t delay = delay_ms(ctx, count);
	until = delay ? now_ms + delay : 0;
	if ((err = stmt(q, ST_LOGIN_CLAIM_SET, &st)))
		goto fail;
	bind_blob(st, 1, idx, SS_INDEX_LEN);
	sqlite3_bind_int64(st, 2, count);
	sqlite3_bind_int64(st, 3, until);
	sqlite3_bind_int64(st, 4, now_ms);
	if ((err = run(q, st, "login_claim")))
		goto fail;
	*failures = count;
	*blocked_until = until;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static enum ss_err sq_login_clear(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN])
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_LOGIN_CLEAR, &st);
	if (!err) {
		bind_blob(st, 1, idx, SS_INDEX_LEN);
		err = run(q, st, "login_clear");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Deletes, a batch at a time, the rows last claimed before before_ms that do not block at now_ms, at most max. */
static enum ss_err forget_batches(struct sq *q, int64_t before_ms, int64_t now_ms, int64_t max, int64_t *forgotten)
{
	enum { BATCH = 10000 };
	enum ss_err err = SS_OK;
	int64_t n = BATCH;
	while (!err && max > 0 && n == BATCH) {
		sqlite3_stmt *st = NULL;
		pthread_mutex_lock(&q->lock);
		if (!(err = stmt(q, ST_LOGIN_FORGET, &st))) {
			sqlite3_bind_int64(st, 1, before_ms);
			sqlite3_bind_int64(st, 2, now_ms);
			sqlite3_bind_int64(st, 3, max < BATCH ? max : BATCH);
			err = run(q, st, "login_forget");
			n = err ? 0 : sqlite3_changes(q->db);
		}
		pthread_mutex_unlock(&q->lock);
		*forgotten += n;
		max -= n;
	}
	return err;
}

static enum ss_err sq_login_forget(struct ss_store *s, int64_t forget_before_ms, int64_t now_ms, int64_t max_rows,
                                   int64_t *forgotten)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t kept = 0;
	*forgotten = 0;
	enum ss_err err = forget_batches(q, forget_before_ms, now_ms, INT64_MAX, forgotten);
	if (err)
		return err;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_LOGIN_COUNT, &st)))
		err = get_id(q, st, &kept, "login_count");
	pthread_mutex_unlock(&q->lock);
	if (!err && kept > max_rows)
		err = forget_batches(q, INT64_MAX, now_ms, kept - max_rows, forgotten);
	return err;
}

static enum ss_err sq_session_insert(struct ss_store *s, const struct ss_session_row *row)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SESSION_INSERT, &st))) {
		bind_blob(st, 1, row->token_hash, 32);
		sqlite3_bind_int64(st, 2, row->citizen_id);
		bind_text(st, 3, row->channel);
		sqlite3_bind_int64(st, 4, row->created_at);
		sqlite3_bind_int64(st, 5, row->expires_at);
		err = run(q, st, "session_insert");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_session_get(struct ss_store *s, const uint8_t token_hash[32], struct ss_arena *a,
                                  struct ss_session_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SESSION_GET, &st))) {
		bind_blob(st, 1, token_hash, 32);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			memcpy(out->token_hash, token_hash, 32);
			out->citizen_id = sqlite3_column_int64(st, 0);
			out->channel = col_text(st, 1, a);
			out->created_at = sqlite3_column_int64(st, 2);
			out->expires_at = sqlite3_column_int64(st, 3);
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "session_get");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_session_purge(struct ss_store *s, int64_t now)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SESSION_PURGE, &st))) {
		sqlite3_bind_int64(st, 1, now);
		err = run(q, st, "session_purge");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_session_delete(struct ss_store *s, const uint8_t token_hash[32])
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SESSION_DELETE, &st))) {
		sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_STATIC);
		err = run(q, st, "session_delete");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_staff_insert(struct ss_store *s, const struct ss_staff_row *row, int64_t *staff_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STAFF_INSERT, &st))) {
		bind_text(st, 1, row->name);
		bind_text(st, 2, row->role);
		bind_blob(st, 3, row->token_hash, 32);
		sqlite3_bind_int64(st, 4, row->created_at);
		err = run(q, st, "staff_insert");
		if (!err)
			*staff_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_staff_by_token(struct ss_store *s, const uint8_t token_hash[32], struct ss_arena *a,
                                     struct ss_staff_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STAFF_BY_TOKEN, &st))) {
		bind_blob(st, 1, token_hash, 32);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->staff_id = sqlite3_column_int64(st, 0);
			out->name = col_text(st, 1, a);
			out->role = col_text(st, 2, a);
			memcpy(out->token_hash, token_hash, 32);
			out->created_at = sqlite3_column_int64(st, 3);
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "staff_by_token");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_citizen_each(struct ss_store *s,
                                   enum ss_err (*fn)(void *ctx, int64_t citizen_id, int64_t person_id,
                                                     struct ss_blob sealed, int64_t created_at),
                                   void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_CITIZEN_EACH, &st))) {
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
			err = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			         (struct ss_blob){sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2)},
			         sqlite3_column_int64(st, 3));
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "citizen_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_place_ensure(struct ss_store *s, const char *org, const char *place, const char *division,
                                   int64_t *place_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t org_id = 0, now = (int64_t)time(NULL);
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_ORG_INSERT, &st)))
		goto fail;
	bind_text(st, 1, org);
	sqlite3_bind_int64(st, 2, now);
	if ((err = run(q, st, "org_insert")) || (err = stmt(q, ST_ORG_GET, &st)))
		goto fail;
	bind_text(st, 1, org);
	if ((err = get_id(q, st, &org_id, "org_get")) || (err = stmt(q, ST_PLACE_INSERT, &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, org_id);
	bind_text(st, 2, place);
	bind_text(st, 3, division);
	sqlite3_bind_int64(st, 4, now);
	if ((err = run(q, st, "place_insert")) || (err = stmt(q, ST_PLACE_GET, &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, org_id);
	bind_text(st, 2, place);
	if ((err = get_id(q, st, place_id, "place_get")))
		goto fail;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static enum ss_err sq_terminal_insert(struct ss_store *s, const struct ss_terminal_row *row, int64_t *terminal_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_TERMINAL_INSERT, &st))) {
		sqlite3_bind_int64(st, 1, row->place_id);
		bind_text(st, 2, row->scene);
		bind_blob(st, 3, row->secret_sealed.p, row->secret_sealed.n);
		sqlite3_bind_int64(st, 4, row->created_by);
		sqlite3_bind_int64(st, 5, row->created_at);
		err = run(q, st, "terminal_insert");
		if (!err)
			*terminal_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_terminal_get(struct ss_store *s, int64_t terminal_id, struct ss_arena *a,
                                   struct ss_terminal_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_TERMINAL_GET, &st))) {
		sqlite3_bind_int64(st, 1, terminal_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->terminal_id = sqlite3_column_int64(st, 0);
			out->place_id = sqlite3_column_int64(st, 1);
			out->scene = col_text(st, 2, a);
			out->secret_sealed = col_blob(st, 3, a);
			out->created_by = sqlite3_column_int64(st, 4);
			out->created_at = sqlite3_column_int64(st, 5);
			out->disabled = sqlite3_column_int(st, 6) != 0;
			out->place = col_text(st, 7, a);
			out->org = col_text(st, 8, a);
			out->division = col_text(st, 9, a);
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "terminal_get");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static void bind_status(sqlite3_stmt *st, const struct ss_status_row *row)
{
	sqlite3_bind_int64(st, 1, row->person_id);
	sqlite3_bind_int(st, 2, row->color);
	sqlite3_bind_int64(st, 3, row->since);
	bind_text(st, 4, row->rule);
	bind_text(st, 5, row->reason);
	if (row->set_by)
		sqlite3_bind_int64(st, 6, row->set_by);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_int64(st, 7, row->review_at);
	bind_text(st, 8, row->rule_set ? row->rule_set : "");
	bind_text(st, 9, row->fired ? row->fired : "[]");
}

static enum ss_err sq_status_put(struct ss_store *s, const struct ss_status_row *row)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_STATUS_PUT, &st)))
		goto fail;
	bind_status(st, row);
	if ((err = run(q, st, "status_put")) || (err = stmt(q, ST_STATUS_HISTORY, &st)))
		goto fail;
	bind_status(st, row);
	if ((err = run(q, st, "status_history")))
		goto fail;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static void read_status(sqlite3_stmt *st, int first, struct ss_arena *a, struct ss_status_row *out)
{
	out->color = sqlite3_column_int(st, first);
	out->since = sqlite3_column_int64(st, first + 1);
	out->rule = col_text(st, first + 2, a);
	out->reason = col_text(st, first + 3, a);
	out->set_by = sqlite3_column_int64(st, first + 4);
	out->review_at = sqlite3_column_int64(st, first + 5);
	out->rule_set = col_text(st, first + 6, a);
	out->fired = col_text(st, first + 7, a);
}

static enum ss_err sq_status_get(struct ss_store *s, int64_t person_id, struct ss_arena *a, struct ss_status_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STATUS_GET, &st))) {
		sqlite3_bind_int64(st, 1, person_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->person_id = person_id;
			read_status(st, 0, a, out);
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "status_get");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_status_each(struct ss_store *s, enum ss_err (*fn)(void *ctx, const struct ss_status_row *row),
                                  void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STATUS_EACH, &st))) {
		struct ss_arena a;
		ss_arena_init(&a);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_status_row row = {.person_id = sqlite3_column_int64(st, 0)};
			read_status(st, 1, &a, &row);
			err = fn(ctx, &row);
			ss_arena_release(&a);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "status_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* Keeps a nonce; the caller holds the lock. */
static enum ss_err put_nonce(struct sq *q, const struct ss_nonce_row *row)
{
	sqlite3_stmt *st = NULL;
	enum ss_err err = stmt(q, ST_NONCE_PUT, &st);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, row->ts);
	sqlite3_bind_int64(st, 2, (int64_t)row->key);
	return run(q, st, "nonce_put");
}

static enum ss_err sq_scan_append(struct ss_store *s, const struct ss_scan_row *rows, size_t n)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_SCAN_INSERT, &st)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct ss_scan_row *r = &rows[i];
		sqlite3_bind_int64(st, 1, r->scan_id);
		sqlite3_bind_int64(st, 2, r->terminal_id);
		sqlite3_bind_int64(st, 3, r->place_id);
		sqlite3_bind_int(st, 4, r->scene);
		bind_id_or_null(st, 5, r->person_id);
		bind_id_or_null(st, 6, r->presenter_id);
		sqlite3_bind_int(st, 7, r->result);
		bind_id_or_null(st, 8, r->key_id);
		sqlite3_bind_int64(st, 9, r->scanned_at_ms);
		bind_id_or_null(st, 10, r->code_issued_at);
		bind_id_or_null(st, 11, (int64_t)r->code_fingerprint);
		if ((err = run(q, st, "scan_insert")))
			goto fail;
		if (r->nonce.ts && (err = put_nonce(q, &r->nonce)))
			goto fail;
	}
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static enum ss_err sq_scan_max_id(struct ss_store *s, int64_t *scan_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SCAN_MAX, &st)))
		err = get_id(q, st, scan_id, "scan_max_id");
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Calls fn for each row of a bound statement of scans with their place names (columns as ST_SCANS_OF_PERSON). */
/* The columns every scan query starts with: scan_id, terminal_id, place_id, scene, person_id, presenter_id, result,
 * key_id, scanned_at (0 to 8). */
static struct ss_scan_row scan_row(sqlite3_stmt *st)
{
	return (struct ss_scan_row){
	        .scan_id = sqlite3_column_int64(st, 0),
	        .terminal_id = sqlite3_column_int64(st, 1),
	        .place_id = sqlite3_column_int64(st, 2),
	        .scene = sqlite3_column_int(st, 3),
	        .person_id = sqlite3_column_int64(st, 4),
	        .presenter_id = sqlite3_column_int64(st, 5),
	        .result = sqlite3_column_int(st, 6),
	        .key_id = sqlite3_column_int64(st, 7),
	        .scanned_at_ms = sqlite3_column_int64(st, 8),
	};
}

static enum ss_err scans_with_places(struct sq *q, sqlite3_stmt *st, struct ss_arena *a,
                                     enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx,
                                     const char *what)
{
	enum ss_err err = SS_OK;
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ss_scan_row row = scan_row(st);
		row.place = col_text(st, 9, a);
		err = fn(ctx, &row);
	}
	if (!err && rc != SQLITE_DONE)
		err = translate(q, rc, what);
	done(st);
	return err;
}

static enum ss_err sq_scans_of_person(struct ss_store *s, int64_t person_id, bool presented_only, int limit,
                                      struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row),
                                      void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SCANS_OF_PERSON, &st))) {
		sqlite3_bind_int64(st, 1, person_id);
		sqlite3_bind_int(st, 2, limit);
		sqlite3_bind_int(st, 3, presented_only);
		err = scans_with_places(q, st, a, fn, ctx, "scans_of_person");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_scans_of_person_during(struct ss_store *s, int64_t person_id, int64_t from_ms, int64_t to_ms,
                                             int limit, struct ss_arena *a,
                                             enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SCANS_OF_PERSON_DURING, &st))) {
		sqlite3_bind_int64(st, 1, person_id);
		sqlite3_bind_int64(st, 2, from_ms);
		sqlite3_bind_int64(st, 3, to_ms);
		sqlite3_bind_int(st, 4, limit);
		err = scans_with_places(q, st, a, fn, ctx, "scans_of_person_during");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_scans_at_place(struct ss_store *s, int64_t place_id, int64_t from_ms, int64_t to_ms, int limit,
                                     enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_SCANS_AT_PLACE, &st))) {
		sqlite3_bind_int64(st, 1, place_id);
		sqlite3_bind_int64(st, 2, from_ms);
		sqlite3_bind_int64(st, 3, to_ms);
		sqlite3_bind_int(st, 4, limit);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_scan_row row = {
			        .place_id = place_id,
			        .person_id = sqlite3_column_int64(st, 0),
			        .presenter_id = sqlite3_column_int64(st, 1),
			        .scanned_at_ms = sqlite3_column_int64(st, 2),
			};
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "scans_at_place");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_rule_set_put(struct ss_store *s, const char *version, const char *text, int64_t loaded_at)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_RULE_SET_CLEAR, &st)) || (err = run(q, st, "rule_set_clear")) ||
	    (err = stmt(q, ST_RULE_SET_PUT, &st)))
		goto fail;
	bind_text(st, 1, version);
	bind_text(st, 2, text);
	sqlite3_bind_int64(st, 3, loaded_at);
	if ((err = run(q, st, "rule_set_put")))
		goto fail;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static enum ss_err sq_rule_set_active(struct ss_store *s, struct ss_arena *a, const char **version, const char **text)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_RULE_SET_ACTIVE, &st))) {
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version = col_text(st, 0, a);
			*text = col_text(st, 1, a);
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "rule_set_active");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_status_history_of_person(struct ss_store *s, int64_t person_id, int limit, struct ss_arena *a,
                                               enum ss_err (*fn)(void *ctx, const struct ss_status_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STATUS_HISTORY_OF, &st))) {
		sqlite3_bind_int64(st, 1, person_id);
		sqlite3_bind_int(st, 2, limit);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_status_row row = {.person_id = person_id};
			read_status(st, 0, a, &row);
			row.change_id = sqlite3_column_int64(st, 8);
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "status_history_of_person");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_status_changes_after(struct ss_store *s, int64_t after_id,
                                           enum ss_err (*fn)(void *ctx, const struct ss_status_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STATUS_CHANGES_AFTER, &st))) {
		struct ss_arena a;
		ss_arena_init(&a);
		sqlite3_bind_int64(st, 1, after_id);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_status_row row = {0};
			read_status(st, 0, &a, &row);
			row.change_id = sqlite3_column_int64(st, 8);
			row.person_id = sqlite3_column_int64(st, 9);
			err = fn(ctx, &row);
			ss_arena_release(&a);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "status_changes_after");
		done(st);
		ss_arena_release(&a);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_record_put(struct ss_store *s, const struct ss_record_row *row, int64_t *record_seq)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_RECORD_PUT, &st))) {
		bind_blob(st, 1, row->record_key, SS_INDEX_LEN);
		bind_blob(st, 2, row->idx, SS_INDEX_LEN);
		bind_text(st, 3, row->kind);
		bind_text(st, 4, row->source);
		sqlite3_bind_int64(st, 5, row->occurred_at);
		bind_blob(st, 6, row->sealed.p, row->sealed.n);
		sqlite3_bind_int64(st, 7, row->received_at);
		err = run(q, st, "record_put");
		/* DO NOTHING: a record_id kept already is not an error of the statement, only of the call */
		if (!err && sqlite3_changes(q->db) == 0)
			err = ss_fail(SS_CONFLICT, "record_id", "duplicate, ignored");
		else if (!err && record_seq)
			*record_seq = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_records_of_person(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                        enum ss_err (*fn)(void *ctx, const struct ss_record_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_RECORDS_OF_PERSON, &st))) {
		bind_blob(st, 1, idx, SS_INDEX_LEN);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_record_row row = {
			        .record_seq = sqlite3_column_int64(st, 0),
			        .kind = col_text(st, 2, a),
			        .source = col_text(st, 3, a),
			        .occurred_at = sqlite3_column_int64(st, 4),
			        .sealed = col_blob(st, 5, a),
			        .received_at = sqlite3_column_int64(st, 6),
			};
			col_fixed(st, 1, row.record_key, SS_INDEX_LEN);
			memcpy(row.idx, idx, SS_INDEX_LEN);
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "records_of_person");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_client_insert(struct ss_store *s, const struct ss_source_client_row *row, int64_t *client_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_CLIENT_INSERT, &st))) {
		bind_text(st, 1, row->source);
		bind_text(st, 2, row->name ? row->name : "");
		bind_blob(st, 3, row->secret_sealed.p, row->secret_sealed.n);
		sqlite3_bind_int64(st, 4, row->created_by);
		sqlite3_bind_int64(st, 5, row->created_at);
		err = run(q, st, "client_insert");
		if (!err)
			*client_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_client_get(struct ss_store *s, int64_t client_id, struct ss_arena *a,
                                 struct ss_source_client_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_CLIENT_GET, &st))) {
		sqlite3_bind_int64(st, 1, client_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->client_id = sqlite3_column_int64(st, 0);
			out->source = col_text(st, 1, a);
			out->name = col_text(st, 2, a);
			out->secret_sealed = col_blob(st, 3, a);
			out->created_by = sqlite3_column_int64(st, 4);
			out->created_at = sqlite3_column_int64(st, 5);
			out->disabled = sqlite3_column_int(st, 6) != 0;
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "client_get");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_statuses_due(struct ss_store *s, int64_t now, int limit,
                                   enum ss_err (*fn)(void *ctx, int64_t person_id, const uint8_t idx[SS_INDEX_LEN]),
                                   void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	/* collected first: fn writes to the store, which must not happen while this statement reads */
	int64_t ids[256];
	uint8_t idxs[256][SS_INDEX_LEN];
	int n = 0;
	if (limit > 256)
		limit = 256;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_STATUSES_DUE, &st))) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int(st, 2, limit);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
			ids[n] = sqlite3_column_int64(st, 0);
			col_fixed(st, 1, idxs[n], SS_INDEX_LEN);
			n++;
		}
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			err = translate(q, rc, "statuses_due");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; !err && i < n; i++)
		err = fn(ctx, ids[i], idxs[i]);
	return err;
}

#define RECORD_PEOPLE_MAX 1000

static enum ss_err sq_record_people_each(struct ss_store *s, int64_t after, int limit,
                                         enum ss_err (*fn)(void *ctx, int64_t person_id,
                                                           const uint8_t idx[SS_INDEX_LEN], const char *division),
                                         void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	struct person {
		int64_t id;
		uint8_t idx[SS_INDEX_LEN];
		char division[7];
	} * batch;
	int n = 0;
	if (limit > RECORD_PEOPLE_MAX)
		limit = RECORD_PEOPLE_MAX;
	if (limit <= 0)
		return SS_OK;
	/* collected first: fn writes to the store, which must not happen while this statement reads */
	batch = ss_malloc((size_t)limit * sizeof(*batch));
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_RECORD_PEOPLE, &st))) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		int rc = SQLITE_DONE;
		while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *d = sqlite3_column_text(st, 2);
			batch[n].id = sqlite3_column_int64(st, 0);
			col_fixed(st, 1, batch[n].idx, SS_INDEX_LEN);
			snprintf(batch[n].division, sizeof(batch[n].division), "%s", d ? (const char *)d : "");
			n++;
		}
		if (n < limit && rc != SQLITE_DONE)
			err = translate(q, rc, "record_people_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; !err && i < n; i++)
		err = fn(ctx, batch[i].id, batch[i].idx, batch[i].division);
	free(batch);
	return err;
}

static enum ss_err audit_last(struct sq *q, int64_t *seq, uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	enum ss_err err = stmt(q, ST_AUDIT_LAST, &st);
	if (err)
		return err;
	*seq = 0;
	memset(hash, 0, 32);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		col_fixed(st, 1, hash, 32);
	} else if (rc != SQLITE_DONE) {
		err = translate(q, rc, "audit_last");
	}
	done(st);
	return err;
}

static enum ss_err sq_audit_last(struct ss_store *s, int64_t *seq, uint8_t hash[32])
{
	struct sq *q = SQ(s);
	pthread_mutex_lock(&q->lock);
	enum ss_err err = audit_last(q, seq, hash);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_audit_append(struct ss_store *s, struct ss_audit_row *rows, size_t n,
                                   void (*chain)(struct ss_audit_row *row))
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t seq;
	uint8_t prev[32];
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = audit_last(q, &seq, prev)) || (err = stmt(q, ST_AUDIT_INSERT, &st)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct ss_audit_row *r = &rows[i];
		r->seq = ++seq;
		memcpy(r->prev, prev, 32);
		chain(r);
		memcpy(prev, r->hash, 32);
		sqlite3_bind_int64(st, 1, r->seq);
		sqlite3_bind_int64(st, 2, r->at_ms);
		bind_text(st, 3, r->actor);
		sqlite3_bind_int64(st, 4, r->actor_id);
		bind_text(st, 5, r->action);
		sqlite3_bind_int64(st, 6, r->subject);
		bind_text(st, 7, r->why ? r->why : "");
		sqlite3_bind_int(st, 8, r->unmasked);
		bind_text(st, 9, r->detail ? r->detail : "{}");
		bind_blob(st, 10, r->prev, 32);
		bind_blob(st, 11, r->hash, 32);
		if ((err = run(q, st, "audit_append")))
			goto fail;
	}
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

/* An audit row from AUDIT_COLUMNS (and, with who, the columns of AUDIT_WHO after them). */
static void read_audit(sqlite3_stmt *st, bool who, struct ss_arena *a, struct ss_audit_row *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(st, 0);
	r->at_ms = sqlite3_column_int64(st, 1);
	r->actor = col_text(st, 2, a);
	r->actor_id = sqlite3_column_int64(st, 3);
	r->action = col_text(st, 4, a);
	r->subject = sqlite3_column_int64(st, 5);
	r->why = col_text(st, 6, a);
	r->unmasked = sqlite3_column_int(st, 7) != 0;
	r->detail = col_text(st, 8, a);
	col_fixed(st, 9, r->prev, 32);
	col_fixed(st, 10, r->hash, 32);
	if (who) {
		r->staff_role = col_text(st, 11, a);
		r->staff_name = col_text(st, 12, a);
		r->org = col_text(st, 13, a);
		r->place = col_text(st, 14, a);
		r->scene = col_text(st, 15, a);
	}
}

static enum ss_err audit_rows(struct sq *q, sqlite3_stmt *st, bool who, struct ss_arena *a,
                              enum ss_err (*fn)(void *ctx, const struct ss_audit_row *row), void *ctx)
{
	enum ss_err err = SS_OK;
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ss_audit_row r;
		read_audit(st, who, a, &r);
		err = fn(ctx, &r);
	}
	if (!err && rc != SQLITE_DONE)
		err = translate(q, rc, "audit read");
	done(st);
	return err;
}

static enum ss_err sq_audit_each(struct ss_store *s, int64_t after, int limit, struct ss_arena *a,
                                 enum ss_err (*fn)(void *ctx, const struct ss_audit_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_AUDIT_EACH, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		err = audit_rows(q, st, false, a, fn, ctx);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_audit_query(struct ss_store *s, const struct ss_audit_filter *f, struct ss_arena *a,
                                  enum ss_err (*fn)(void *ctx, const struct ss_audit_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	/* a subject is looked up through its own index */
	enum ss_err err = stmt(q, f->subject ? ST_AUDIT_BY_SUBJECT : ST_AUDIT_QUERY, &st);
	if (!err) {
		if (f->actor)
			bind_text(st, 1, f->actor);
		sqlite3_bind_int64(st, 2, f->actor_id);
		if (f->action)
			bind_text(st, 3, f->action);
		sqlite3_bind_int64(st, 4, f->subject);
		sqlite3_bind_int64(st, 5, f->from_ms);
		sqlite3_bind_int64(st, 6, f->to_ms);
		sqlite3_bind_int(st, 7, f->unmasked);
		sqlite3_bind_int64(st, 8, f->before);
		sqlite3_bind_int(st, 9, f->limit);
		err = audit_rows(q, st, true, a, fn, ctx);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_audit_checkpoint_put(struct ss_store *s, int64_t seq, const uint8_t hash[32], struct ss_blob sig,
                                           int64_t at_ms)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_AUDIT_CHECKPOINT_PUT, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, seq);
		bind_blob(st, 2, hash, 32);
		bind_blob(st, 3, sig.p, sig.n);
		sqlite3_bind_int64(st, 4, at_ms);
		err = run(q, st, "audit_checkpoint_put");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_audit_checkpoint_each(struct ss_store *s, struct ss_arena *a,
                                            enum ss_err (*fn)(void *ctx, int64_t seq, const uint8_t *hash,
                                                              struct ss_blob sig, int64_t at_ms),
                                            void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_AUDIT_CHECKPOINT_EACH, &st);
	if (!err) {
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			uint8_t hash[32];
			col_fixed(st, 1, hash, 32);
			err = fn(ctx, sqlite3_column_int64(st, 0), hash, col_blob(st, 2, a),
			         sqlite3_column_int64(st, 3));
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "audit_checkpoint_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_scans_after(struct ss_store *s, int64_t after, int limit,
                                  enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_SCANS_AFTER, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int(st, 2, limit);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_scan_row row = scan_row(st);
			row.code_issued_at = sqlite3_column_int64(st, 9);
			row.code_fingerprint = (uint64_t)sqlite3_column_int64(st, 10);
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "scans_after");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_alert_put(struct ss_store *s, struct ss_alert_row *row)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_ALERT_PUT, &st);
	if (!err) {
		bind_text(st, 1, row->kind);
		sqlite3_bind_int64(st, 2, row->raised_at_ms);
		bind_text(st, 3, row->subject);
		bind_text(st, 4, row->detail);
		bind_id_or_null(st, 5, row->person_id);
		bind_id_or_null(st, 6, row->presenter_id);
		bind_id_or_null(st, 7, row->staff_id);
		bind_id_or_null(st, 8, row->place_id[0]);
		bind_id_or_null(st, 9, row->place_id[1]);
		if (!(err = run(q, st, "alert_put")))
			row->alert_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_alerts_list(struct ss_store *s, int64_t since_ms, const char *kind, int64_t before, int limit,
                                  struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_alert_row *row),
                                  void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_ALERTS_LIST, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, since_ms);
		if (kind)
			bind_text(st, 2, kind);
		sqlite3_bind_int64(st, 3, before);
		sqlite3_bind_int(st, 4, limit);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_alert_row row = {
			        .alert_id = sqlite3_column_int64(st, 0),
			        .kind = col_text(st, 1, a),
			        .raised_at_ms = sqlite3_column_int64(st, 2),
			        .subject = col_text(st, 3, a),
			        .detail = col_text(st, 4, a),
			        .acknowledged_by = sqlite3_column_int64(st, 5),
			        .acknowledged_at_ms = sqlite3_column_int64(st, 6),
			        .person_id = sqlite3_column_int64(st, 7),
			        .presenter_id = sqlite3_column_int64(st, 8),
			        .staff_id = sqlite3_column_int64(st, 9),
			        .place_id = {sqlite3_column_int64(st, 10), sqlite3_column_int64(st, 11)},
			        .person_sealed = col_blob(st, 12, a),
			        .presenter_sealed = col_blob(st, 13, a),
			        .org = {col_text(st, 14, a), col_text(st, 16, a)},
			        .place = {col_text(st, 15, a), col_text(st, 17, a)},
			        .staff_name = col_text(st, 18, a),
			        .staff_role = col_text(st, 19, a),
			        .acknowledged_name = col_text(st, 20, a),
			};
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "alerts_list");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_alert_ack(struct ss_store *s, int64_t alert_id, int64_t staff_id, int64_t at_ms)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_ALERT_ACK, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, alert_id);
		sqlite3_bind_int64(st, 2, staff_id);
		sqlite3_bind_int64(st, 3, at_ms);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			bool mine = sqlite3_column_int(st, 0) != 0;
			rc = sqlite3_step(st);
			err = translate(q, rc, "alert_ack");
			if (!err && !mine) /* the first acknowledgement stands */
				err = ss_fail(SS_CONFLICT, NULL, "alert %lld was acknowledged already",
				              (long long)alert_id);
		} else {
			err = rc == SQLITE_DONE ? ss_fail(SS_NOT_FOUND, NULL, "no alert %lld", (long long)alert_id)
			                        : translate(q, rc, "alert_ack");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Relatives (core/dependents.h): links between guardians and dependents. */

static void read_dependent(sqlite3_stmt *st, struct ss_arena *a, struct ss_dependent_row *out)
{
	out->link_id = sqlite3_column_int64(st, 0);
	out->guardian_id = sqlite3_column_int64(st, 1);
	out->guardian_person_id = sqlite3_column_int64(st, 2);
	out->person_id = sqlite3_column_int64(st, 3);
	out->relation = col_text(st, 4, a);
	out->state = col_text(st, 5, a);
	out->adult_at = sqlite3_column_int64(st, 6);
	out->sealed = col_blob(st, 7, a);
	out->created_at = sqlite3_column_int64(st, 8);
	out->changed_at = sqlite3_column_int64(st, 9);
	out->basis = col_text(st, 10, a);
}

static enum ss_err sq_dependent_insert(struct ss_store *s, const struct ss_dependent_row *row, int64_t *link_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_DEPENDENT_INSERT, &st))) {
		sqlite3_bind_int64(st, 1, row->guardian_id);
		sqlite3_bind_int64(st, 2, row->guardian_person_id);
		sqlite3_bind_int64(st, 3, row->person_id);
		bind_text(st, 4, row->relation);
		bind_text(st, 5, row->state);
		sqlite3_bind_int64(st, 6, row->adult_at);
		bind_blob(st, 7, row->sealed.p, row->sealed.n);
		sqlite3_bind_int64(st, 8, row->created_at);
		sqlite3_bind_int64(st, 9, row->changed_at);
		bind_text(st, 10, row->basis ? row->basis : "");
		err = run(q, st, "dependent_insert");
		if (!err)
			*link_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_dependent_get(struct ss_store *s, int64_t link_id, struct ss_arena *a,
                                    struct ss_dependent_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_DEPENDENT_GET, &st))) {
		sqlite3_bind_int64(st, 1, link_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_dependent(st, a, out);
		else
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "dependent_get");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_dependent_set_state(struct ss_store *s, int64_t link_id, const char *from, const char *to,
                                          const char *basis, int64_t now)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_DEPENDENT_SET_STATE, &st))) {
		sqlite3_bind_int64(st, 1, link_id);
		bind_text(st, 2, from);
		bind_text(st, 3, to);
		sqlite3_bind_int64(st, 4, now);
		if (basis)
			bind_text(st, 5, basis);
		else
			sqlite3_bind_null(st, 5);
		err = run(q, st, "dependent_set_state");
		if (!err && sqlite3_changes(q->db) == 0)
			err = SS_NOT_FOUND;
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_dependent_each(struct ss_store *s, int64_t guardian_id, int64_t person_id, const char *state,
                                     struct ss_arena *a,
                                     enum ss_err (*fn)(void *ctx, const struct ss_dependent_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	struct ss_dependent_row *rows = NULL;
	size_t n = 0, cap = 0;
	enum ss_err err = SS_OK;
	int rc = SQLITE_DONE;
	pthread_mutex_lock(&q->lock);
	enum stmt_id id = guardian_id ? ST_DEPENDENT_OF_GUARDIAN
	                  : person_id ? ST_DEPENDENT_OF_PERSON
	                              : ST_DEPENDENT_EACH;
	if (!(err = stmt(q, id, &st))) {
		sqlite3_bind_int64(st, 1, guardian_id);
		sqlite3_bind_int64(st, 2, person_id);
		if (state)
			bind_text(st, 3, state);
		else
			sqlite3_bind_null(st, 3);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				rows = ss_realloc(rows, cap * sizeof(*rows));
			}
			read_dependent(st, a, &rows[n++]);
		}
		if (rc != SQLITE_DONE)
			err = translate(q, rc, "dependent_each");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; !err && i < n; i++)
		err = fn(ctx, &rows[i]);
	free(rows);
	return err;
}

/* Appeals (core/appeals.h). */

static void read_appeal(sqlite3_stmt *st, bool blobs, struct ss_arena *a, struct ss_appeal_row *out)
{
	memset(out, 0, sizeof(*out));
	out->appeal_id = sqlite3_column_int64(st, 0);
	out->person_id = sqlite3_column_int64(st, 1);
	out->citizen_id = sqlite3_column_int64(st, 2);
	out->channel = col_text(st, 3, a);
	out->filed_by = col_text(st, 4, a);
	out->filed_by_id = sqlite3_column_int64(st, 5);
	out->state = col_text(st, 6, a);
	out->filed_at = sqlite3_column_int64(st, 7);
	out->due_at = sqlite3_column_int64(st, 8);
	out->handler_id = sqlite3_column_int64(st, 9);
	out->decision = col_text(st, 10, a);
	out->decided_at = sqlite3_column_int64(st, 11);
	out->color = col_text(st, 12, a);
	out->until = sqlite3_column_int64(st, 13);
	if (blobs) {
		out->sealed = col_blob(st, 14, a);
		out->data_check = col_blob(st, 15, a);
		out->grass_check = col_blob(st, 16, a);
		out->decision_sealed = col_blob(st, 17, a);
	}
}

static void bind_opt_blob(sqlite3_stmt *st, int i, struct ss_blob b)
{
	if (b.n)
		bind_blob(st, i, b.p, b.n);
	else
		sqlite3_bind_null(st, i);
}

static enum ss_err sq_appeal_insert(struct ss_store *s, const struct ss_appeal_row *row, int64_t *appeal_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_INSERT, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, row->person_id);
		sqlite3_bind_int64(st, 2, row->citizen_id);
		bind_text(st, 3, row->channel);
		bind_text(st, 4, row->filed_by);
		sqlite3_bind_int64(st, 5, row->filed_by_id);
		bind_text(st, 6, row->state);
		sqlite3_bind_int64(st, 7, row->filed_at);
		sqlite3_bind_int64(st, 8, row->due_at);
		bind_blob(st, 9, row->sealed.p, row->sealed.n);
		if (!(err = run(q, st, "appeal_insert")) && appeal_id)
			*appeal_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_get(struct ss_store *s, int64_t appeal_id, struct ss_arena *a, struct ss_appeal_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_GET, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, appeal_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			read_appeal(st, true, a, out);
		else
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "appeal_get");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_update(struct ss_store *s, const struct ss_appeal_row *row)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_UPDATE, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, row->appeal_id);
		bind_text(st, 2, row->state);
		sqlite3_bind_int64(st, 3, row->handler_id);
		bind_opt_blob(st, 4, row->data_check);
		bind_opt_blob(st, 5, row->grass_check);
		bind_text(st, 6, row->decision ? row->decision : "");
		sqlite3_bind_int64(st, 7, row->decided_at);
		if (row->decided_at)
			sqlite3_bind_int64(st, 8, row->decided_at - row->filed_at);
		else
			sqlite3_bind_null(st, 8);
		bind_text(st, 9, row->color ? row->color : "");
		sqlite3_bind_int64(st, 10, row->until);
		bind_opt_blob(st, 11, row->decision_sealed);
		err = run(q, st, "appeal_update");
		if (!err && sqlite3_changes(q->db) == 0)
			err = ss_fail(SS_NOT_FOUND, NULL, "no such appeal");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_event_insert(struct ss_store *s, const struct ss_appeal_event_row *row)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_EVENT_INSERT, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, row->appeal_id);
		sqlite3_bind_int64(st, 2, row->at);
		bind_text(st, 3, row->action);
		bind_text(st, 4, row->kind ? row->kind : "");
		bind_text(st, 5, row->state);
		bind_text(st, 6, row->actor);
		sqlite3_bind_int64(st, 7, row->actor_id);
		err = run(q, st, "appeal_event_insert");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_events(struct ss_store *s, int64_t appeal_id, struct ss_arena *a,
                                    enum ss_err (*fn)(void *ctx, const struct ss_appeal_event_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_EVENTS, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, appeal_id);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_appeal_event_row row = {
			        .appeal_id = appeal_id,
			        .at = sqlite3_column_int64(st, 0),
			        .action = col_text(st, 1, a),
			        .kind = col_text(st, 2, a),
			        .state = col_text(st, 3, a),
			        .actor = col_text(st, 4, a),
			        .actor_id = sqlite3_column_int64(st, 5),
			};
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "appeal_events");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Runs a statement of appeal rows (bound by the caller), calling fn for each. */
static enum ss_err appeal_rows(struct sq *q, sqlite3_stmt *st, bool blobs, struct ss_arena *a,
                               enum ss_err (*fn)(void *ctx, const struct ss_appeal_row *row), void *ctx,
                               const char *what)
{
	enum ss_err err = SS_OK;
	int rc;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ss_appeal_row row;
		read_appeal(st, blobs, a, &row);
		err = fn(ctx, &row);
	}
	if (!err && rc != SQLITE_DONE)
		err = translate(q, rc, what);
	done(st);
	return err;
}

static enum ss_err sq_appeals_of_person(struct ss_store *s, int64_t person_id, int limit, struct ss_arena *a,
                                        enum ss_err (*fn)(void *ctx, const struct ss_appeal_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEALS_OF_PERSON, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, person_id);
		sqlite3_bind_int(st, 2, limit);
		err = appeal_rows(q, st, true, a, fn, ctx, "appeals_of_person");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_queue(struct ss_store *s, const char *state, int64_t after_due, int64_t after_id,
                                   int limit, struct ss_arena *a,
                                   enum ss_err (*fn)(void *ctx, const struct ss_appeal_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, state ? ST_APPEAL_QUEUE_STATE : ST_APPEAL_QUEUE_ALL, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, after_due);
		sqlite3_bind_int64(st, 2, after_id);
		sqlite3_bind_int(st, 3, limit);
		if (state)
			bind_text(st, 4, state);
		err = appeal_rows(q, st, false, a, fn, ctx, "appeal_queue");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_appeal_counts(struct ss_store *s, int64_t now, struct ss_appeal_counts *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_APPEAL_COUNTS, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, now);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->open = sqlite3_column_int64(st, 0);
			out->overdue = sqlite3_column_int64(st, 1);
			out->decided = sqlite3_column_int64(st, 2);
		}
		err = translate(q, rc, "appeal_counts");
		done(st);
	}
	/* the median: the middle one or two of the decided, read in order from the index on decision_secs */
	if (!err && out->decided && !(err = stmt(q, ST_APPEAL_MEDIAN, &st))) {
		sqlite3_bind_int64(st, 1, (out->decided - 1) / 2);
		sqlite3_bind_int(st, 2, out->decided % 2 ? 1 : 2);
		double sum = 0;
		int n = 0, rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			sum += (double)sqlite3_column_int64(st, 0);
			n++;
		}
		err = translate(q, rc, "appeal_median");
		done(st);
		out->median_decision_secs = n ? sum / n : 0;
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_scan_counts(struct ss_store *s, int64_t from_ms, int64_t to_ms, int64_t width_ms,
                                  void (*fn)(void *ctx, int64_t slot, int scene, int result, int64_t n), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_SCAN_COUNTS, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, from_ms);
		sqlite3_bind_int64(st, 2, to_ms);
		sqlite3_bind_int64(st, 3, width_ms);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
			   sqlite3_column_int64(st, 3));
		err = translate(q, rc, "scan_counts");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* One call of fn per row (division, colour, count) of statement id. */
static enum ss_err division_counts(struct ss_store *s, int id, const char *what,
                                   void (*fn)(void *ctx, const char *division, int color, int64_t n), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, id, &st);
	if (!err) {
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
			   sqlite3_column_int64(st, 2));
		err = translate(q, rc, what);
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_residents_by_division(struct ss_store *s,
                                            void (*fn)(void *ctx, const char *division, int color, int64_t n),
                                            void *ctx)
{
	return division_counts(s, ST_RESIDENTS_BY_DIVISION, "residents_by_division", fn, ctx);
}

static enum ss_err sq_colors_by_division(struct ss_store *s,
                                         void (*fn)(void *ctx, const char *division, int color, int64_t n), void *ctx)
{
	return division_counts(s, ST_COLORS_BY_DIVISION, "colors_by_division", fn, ctx);
}

static enum ss_err sq_nonce_put(struct ss_store *s, const struct ss_nonce_row *row)
{
	struct sq *q = SQ(s);
	pthread_mutex_lock(&q->lock);
	enum ss_err err = put_nonce(q, row);
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_nonces_after(struct ss_store *s, int64_t after,
                                   enum ss_err (*fn)(void *ctx, const struct ss_nonce_row *row), void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&q->lock);
	if (!(err = stmt(q, ST_NONCES_AFTER, &st))) {
		sqlite3_bind_int64(st, 1, after);
		int rc;
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct ss_nonce_row row = {sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1)};
			err = fn(ctx, &row);
		}
		if (!err && rc != SQLITE_DONE)
			err = translate(q, rc, "nonces_after");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Asked every second: a read first, so that when nothing is old the write lock is not taken (an import may hold it). */
static enum ss_err sq_nonce_purge(struct ss_store *s, int64_t before)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	int64_t oldest = 0;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_NONCE_OLDEST, &st);
	if (!err)
		err = get_id(q, st, &oldest, "nonce_oldest");
	if (!err && oldest && oldest <= before && !(err = stmt(q, ST_NONCE_PURGE, &st))) {
		sqlite3_bind_int64(st, 1, before);
		err = run(q, st, "nonce_purge");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* Rule jobs (core/rulejob.h). */

static enum ss_err sq_rule_job_insert(struct ss_store *s, const struct ss_rule_job_row *row, int64_t *job_id)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_RULE_JOB_INSERT, &st);
	if (!err) {
		bind_text(st, 1, row->version);
		bind_text(st, 2, row->state);
		sqlite3_bind_int64(st, 3, row->started_by);
		sqlite3_bind_int64(st, 4, row->started_at);
		sqlite3_bind_int64(st, 5, row->finished_at);
		sqlite3_bind_int64(st, 6, row->people_total);
		sqlite3_bind_int64(st, 7, row->people_done);
		sqlite3_bind_int64(st, 8, row->after);
		sqlite3_bind_int64(st, 9, row->owner);
		sqlite3_bind_int64(st, 10, row->heartbeat_ms);
		bind_text(st, 11, row->error ? row->error : "");
		if (!(err = run(q, st, "rule_job_insert")))
			*job_id = sqlite3_last_insert_rowid(q->db);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_rule_job_get(struct ss_store *s, int64_t job_id, struct ss_arena *a, struct ss_rule_job_row *out)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_RULE_JOB_GET, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, job_id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = (struct ss_rule_job_row){
			        .job_id = sqlite3_column_int64(st, 0),
			        .version = col_text(st, 1, a),
			        .state = col_text(st, 2, a),
			        .started_by = sqlite3_column_int64(st, 3),
			        .started_at = sqlite3_column_int64(st, 4),
			        .finished_at = sqlite3_column_int64(st, 5),
			        .people_total = sqlite3_column_int64(st, 6),
			        .people_done = sqlite3_column_int64(st, 7),
			        .changed = sqlite3_column_int64(st, 8),
			        .after = sqlite3_column_int64(st, 9),
			        .owner = sqlite3_column_int64(st, 10),
			        .heartbeat_ms = sqlite3_column_int64(st, 11),
			        .error = col_text(st, 12, a),
			};
		} else {
			err = rc == SQLITE_DONE ? SS_NOT_FOUND : translate(q, rc, "rule_job_get");
		}
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* A job that is not running or not the owner's: nothing was written. */
static enum ss_err not_owned(int64_t job_id)
{
	return ss_fail(SS_CONFLICT, NULL, "job %lld is not running here", (long long)job_id);
}

static enum ss_err sq_rule_job_update(struct ss_store *s, const struct ss_rule_job_row *row, int64_t owner)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_RULE_JOB_UPDATE, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, row->job_id);
		sqlite3_bind_int64(st, 2, owner);
		bind_text(st, 3, row->state);
		sqlite3_bind_int64(st, 4, row->finished_at);
		sqlite3_bind_int64(st, 5, row->people_total);
		sqlite3_bind_int64(st, 6, row->people_done);
		sqlite3_bind_int64(st, 7, row->after);
		sqlite3_bind_int64(st, 8, row->owner);
		sqlite3_bind_int64(st, 9, row->heartbeat_ms);
		bind_text(st, 10, row->error ? row->error : "");
		err = run(q, st, "rule_job_update");
		if (!err && sqlite3_changes(q->db) == 0)
			err = not_owned(row->job_id);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_rule_job_change(struct ss_store *s, const struct ss_rule_job_row *row, int64_t owner,
                                      const char *division, int from, int to)
{
	int64_t job_id = row->job_id;
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	enum ss_err err = sq_begin(s);
	if (err)
		return err;
	if ((err = stmt(q, ST_RULE_JOB_CHANGED, &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, owner);
	sqlite3_bind_int64(st, 3, row->after);
	sqlite3_bind_int64(st, 4, row->people_done);
	if ((err = run(q, st, "rule_job_change")))
		goto fail;
	if (sqlite3_changes(q->db) == 0) {
		err = not_owned(job_id);
		goto fail;
	}
	if ((err = stmt(q, ST_RULE_JOB_CHANGE_PUT, &st)))
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	bind_text(st, 2, division);
	sqlite3_bind_int(st, 3, from);
	sqlite3_bind_int(st, 4, to);
	if ((err = run(q, st, "rule_job_change")))
		goto fail;
	return sq_commit(s);
fail:
	sq_rollback(s);
	return err;
}

static enum ss_err sq_rule_job_changes(struct ss_store *s, int64_t job_id,
                                       void (*fn)(void *ctx, const char *division, int from, int to, int64_t n),
                                       void *ctx)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_RULE_JOB_CHANGES, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, job_id);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
			   sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3));
		err = translate(q, rc, "rule_job_changes");
		done(st);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

static enum ss_err sq_record_people_count(struct ss_store *s, int64_t after, int64_t upto, int64_t *n)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_RECORD_PEOPLE_COUNT, &st);
	if (!err) {
		sqlite3_bind_int64(st, 1, after);
		sqlite3_bind_int64(st, 2, upto);
		err = get_id(q, st, n, "record_people_count");
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

/* SQLite's data_version: it changes only when another connection commits (https://sqlite.org/pragma.html). */
static enum ss_err sq_data_version(struct ss_store *s, int64_t *version)
{
	struct sq *q = SQ(s);
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&q->lock);
	enum ss_err err = stmt(q, ST_DATA_VERSION, &st);
	if (!err)
		err = get_id(q, st, version, "data_version");
	pthread_mutex_unlock(&q->lock);
	return err;
}

static const struct ss_store_ops sqlite_ops = {
        .name = "sqlite",
        .close = sq_close,
        .begin = sq_begin,
        .commit = sq_commit,
        .rollback = sq_rollback,
        .meta_get = sq_meta_get,
        .meta_set = sq_meta_set,
        .key_insert = sq_key_insert,
        .key_set_state = sq_key_set_state,
        .key_each = sq_key_each,
        .key_demote_current = sq_key_demote_current,
        .key_rewrap = sq_key_rewrap,
        .sealed_rows = sq_sealed_rows,
        .sealed_replace = sq_sealed_replace,
        .person_put = sq_person_put,
        .person_get = sq_person_get,
        .person_by_id = sq_person_by_id,
        .registry_guardians_set = sq_registry_guardians_set,
        .registry_guardian_get = sq_registry_guardian_get,
        .person_max_id = sq_person_max_id,
        .person_count = sq_person_count,
        .citizen_insert = sq_citizen_insert,
        .citizen_by_idx = sq_citizen_by_idx,
        .citizen_by_id = sq_citizen_by_id,
        .citizen_login_done = sq_citizen_login_done,
        .login_claim = sq_login_claim,
        .login_clear = sq_login_clear,
        .login_forget = sq_login_forget,
        .session_insert = sq_session_insert,
        .session_get = sq_session_get,
        .session_purge = sq_session_purge,
        .session_delete = sq_session_delete,
        .staff_insert = sq_staff_insert,
        .staff_by_token = sq_staff_by_token,
        .citizen_each = sq_citizen_each,
        .place_ensure = sq_place_ensure,
        .terminal_insert = sq_terminal_insert,
        .terminal_get = sq_terminal_get,
        .status_put = sq_status_put,
        .status_get = sq_status_get,
        .status_each = sq_status_each,
        .scan_append = sq_scan_append,
        .scan_max_id = sq_scan_max_id,
        .scans_of_person = sq_scans_of_person,
        .scans_of_person_during = sq_scans_of_person_during,
        .scans_at_place = sq_scans_at_place,
        .dependent_insert = sq_dependent_insert,
        .dependent_get = sq_dependent_get,
        .dependent_set_state = sq_dependent_set_state,
        .dependent_each = sq_dependent_each,
        .rule_set_put = sq_rule_set_put,
        .rule_set_active = sq_rule_set_active,
        .status_history_of_person = sq_status_history_of_person,
        .status_changes_after = sq_status_changes_after,
        .statuses_due = sq_statuses_due,
        .record_put = sq_record_put,
        .records_of_person = sq_records_of_person,
        .record_people_each = sq_record_people_each,
        .client_insert = sq_client_insert,
        .client_get = sq_client_get,
        .audit_append = sq_audit_append,
        .audit_last = sq_audit_last,
        .audit_each = sq_audit_each,
        .audit_query = sq_audit_query,
        .audit_checkpoint_put = sq_audit_checkpoint_put,
        .audit_checkpoint_each = sq_audit_checkpoint_each,
        .scans_after = sq_scans_after,
        .alert_put = sq_alert_put,
        .alerts_list = sq_alerts_list,
        .alert_ack = sq_alert_ack,
        .appeal_insert = sq_appeal_insert,
        .appeal_get = sq_appeal_get,
        .appeal_update = sq_appeal_update,
        .appeal_event_insert = sq_appeal_event_insert,
        .appeal_events = sq_appeal_events,
        .appeals_of_person = sq_appeals_of_person,
        .appeal_queue = sq_appeal_queue,
        .appeal_counts = sq_appeal_counts,
        .scan_counts = sq_scan_counts,
        .residents_by_division = sq_residents_by_division,
        .colors_by_division = sq_colors_by_division,
        .nonce_put = sq_nonce_put,
        .nonces_after = sq_nonces_after,
        .nonce_purge = sq_nonce_purge,
        .data_version = sq_data_version,
        .rule_job_insert = sq_rule_job_insert,
        .rule_job_get = sq_rule_job_get,
        .rule_job_update = sq_rule_job_update,
        .rule_job_change = sq_rule_job_change,
        .rule_job_changes = sq_rule_job_changes,
        .record_people_count = sq_record_people_count,
};

static enum ss_err exec(struct sq *q, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		ss_log_error("store_error", "op=%s rc=%d msg=\"%s\"", what, rc, msg ? msg : "");
		sqlite3_free(msg);
		return ss_fail((rc & 0xff) == SQLITE_BUSY ? SS_BUSY : SS_INTERNAL, NULL, "cannot %s", what);
	}
	return SS_OK;
}

static enum ss_err user_version(struct sq *q, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return translate(q, rc, "user_version");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SS_OK : translate(q, rc, "user_version");
}

/* Applies each migration above the recorded version in its own transaction. */
static enum ss_err migrate(struct sq *q)
{
	int version;
	enum ss_err err = user_version(q, &version);
	if (err)
		return err;
	for (const struct ss_migration *m = ss_sqlite_migrations; m->number; m++) {
		if (m->number <= version)
			continue;
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->number);
		if ((err = exec(q, "BEGIN IMMEDIATE", "begin migration")))
			return err;
		/* another process may have migrated while we waited for the lock */
		int now;
		if ((err = user_version(q, &now)) || now >= m->number) {
			(void)exec(q, "ROLLBACK", "end migration");
			if (err)
				return err;
			continue;
		}
		if ((err = exec(q, m->sql, m->name)) || (err = exec(q, pragma, "record migration")) ||
		    (err = exec(q, "COMMIT", "commit migration"))) {
			(void)exec(q, "ROLLBACK", "roll back migration");
			return err;
		}
		ss_log_info("migration_applied", "number=%d name=%s", m->number, m->name);
	}
	return SS_OK;
}

/*
 * Waiting for another connection's write lock: SQLite's own busy timeout
 * sleeps 1, 2, 5, 10, ... up to 100 ms between tries, so a scan writer that
 * meets a log-in's short transaction could lose tens of milliseconds and every
 * scan waiting for its commit with it. Here the tries come every 100 us at
 * first and at most every millisecond, up to BUSY_TIMEOUT_MS in all.
 */
static int busy_wait(void *ctx, int tries)
{
	(void)ctx;
	/* 8 tries of 100 us, then 1 ms each: the total passes BUSY_TIMEOUT_MS at this many tries */
	if (tries >= 8 + BUSY_TIMEOUT_MS)
		return 0;
	struct timespec ts = {0, tries < 8 ? 100 * 1000 : 1000 * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

enum ss_err ss_store_sqlite_open(const char *path, bool create, struct ss_store **out)
{
	if (!create && access(path, F_OK) != 0)
		return ss_fail(SS_NOT_FOUND, "data", "no database at '%s': run 'suishen init' first", path);

	struct sq *q = ss_calloc(1, sizeof(*q));
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&q->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	q->base.ops = &sqlite_ops;

	mode_t old = umask(077); /* the database and its WAL are readable by the owner only */
	int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	enum ss_err err = SS_OK;
	if (rc != SQLITE_OK) {
		err = ss_fail(SS_INTERNAL, "data", "cannot open database '%s': %s", path,
		              q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(q->db, busy_wait, NULL);
	sqlite3_extended_result_codes(q->db, 1);
	if ((err = exec(q, "PRAGMA journal_mode = WAL", "enable WAL")) ||
	    (err = exec(q, "PRAGMA synchronous = FULL", "set synchronous")) ||
	    (err = exec(q, "PRAGMA foreign_keys = ON", "enable foreign keys")) ||
	    (err = exec(q, "PRAGMA secure_delete = ON", "enable secure delete")) || (err = migrate(q)) ||
	    (err = exec(q, fence_sql, "fence retiring data keys")))
		goto fail;
	/* prepare every statement now: one with missing or wrong SQL stops the start, not a request */
	for (int id = 0; id < ST_COUNT; id++) {
		sqlite3_stmt *st;
		if ((err = stmt(q, (enum stmt_id)id, &st)))
			goto fail;
	}
	*out = &q->base;
	return SS_OK;
fail:
	sq_close(&q->base);
	return err;
}
