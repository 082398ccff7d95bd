/* The remote halves of the documents operations: each public operation in documents.h
 * calls its half here when plat_svc_remote says the profile names a server. Not a public
 * header: the documents module's own. */
#ifndef PLAT_DOCUMENTS_REMOTE_H
#define PLAT_DOCUMENTS_REMOTE_H

#include "documents/documents.h"
#include "remote/remote.h"

int plat_documents_remote_list(struct plat_remote *r, const struct plat_document_filter *f, cJSON **docs,
			       char **next_cursor, struct plat_error *err);
int plat_documents_remote_get(struct plat_remote *r, const char *id, bool with_history, cJSON **doc,
			      struct plat_error *err);
int plat_documents_remote_remove(struct plat_remote *r, const char *id, bool purge, cJSON **result,
				 struct plat_error *err);
int plat_documents_remote_requeue(struct plat_remote *r, const char *id, cJSON **doc, struct plat_error *err);
int plat_documents_remote_hold(struct plat_remote *r, const char *id, bool hold, const char *reason, cJSON **doc,
			       struct plat_error *err);
int plat_documents_remote_read(struct plat_remote *r, const char *id, plat_documents_sink write, void *arg,
			       cJSON **doc, struct plat_error *err);
int plat_documents_remote_upload(struct plat_remote *r, const struct plat_upload_request *req, cJSON **doc,
				 struct plat_error *err);

#endif
