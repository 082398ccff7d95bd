/* The -o json schema of a document, built by PostgreSQL so that every path returns the
 * same shape. Not a public header: the documents module's own. */
#ifndef PLAT_DOCUMENTS_DOC_JSON_H
#define PLAT_DOCUMENTS_DOC_JSON_H

#define DOC_TIME(c) "to_char(" c " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define DOC_JSON(d)                                                                                          \
	"jsonb_build_object('id', " d "id, 'name', " d "name, 'title', " d "title, 'sha256', " d "sha256, "   \
	"'size', " d "size_bytes, 'content_type', " d "content_type, 'status', " d "status, 'class', " d "class, " \
	"'tags', " d "tags, 'version', " d "version, 'created_by', " d "created_by, "                         \
	"'created_at', " DOC_TIME(d "created_at") ")"

/* With the legal hold: what list, show, hold and release print. Uploads and retries keep
 * the shape they always had (a hold is never set by them). */
#define DOC_JSON_HOLD(d)                                                                                     \
	"(" DOC_JSON(d) " || jsonb_build_object('legal_hold', " d "legal_hold, 'hold_reason', " d "hold_reason, " \
	"'held_by', " d "held_by, 'held_at', " DOC_TIME(d "held_at") "))"

#endif
