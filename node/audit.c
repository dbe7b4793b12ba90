/* SPDX-License-Identifier: MIT */
#include "node/audit.h"
#include "node/files.h"
#include "node/home.h"
#include "node/store.h"
#include "keys/sshkey.h"
#include "protocol/err.h"
#include "protocol/head.h"
#include "protocol/rtime.h"
#include "protocol/signed.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define SIG_B64_LEN 88 /* base64 of 64 bytes, padded */
#define FPR_B64_LEN 43
#define NMEMBERS 12     /* of a disclosure record */
#define NMEMBERS_URL 10 /* of a url record */
#define CASE_PREFIX "url-sha256:"
#define CASE_PREFIX_LEN 11

/* The members' checks of protocol/signed.h; the caller names the line. */
static int hex_check(const char *s, size_t n, size_t want, const char *what)
{
	return hlx_signed_hex(NULL, what, s, n, want);
}

static int fpr_check(const char *s, size_t n)
{
	if (n != 7 + FPR_B64_LEN || memcmp(s, "SHA256:", 7) != 0)
		return hlx_err(HLX_EINVAL,
			       "'key' is not a fingerprint SHA256:<43 base64 characters>");
	for (size_t i = 7; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return hlx_err(HLX_EINVAL, "'key': character %zu is not base64",
				       i + 1);
	}
	return HLX_OK;
}

/* The case id of a url record: url-sha256: and 64 lowercase hex. */
static int case_check(const char *s, size_t n)
{
	if (n != CASE_PREFIX_LEN + 64 || memcmp(s, CASE_PREFIX, CASE_PREFIX_LEN) != 0)
		return hlx_err(HLX_EINVAL,
			       "'case' is not url-sha256: and 64 hex digits");
	return hex_check(s + CASE_PREFIX_LEN, 64, 64, "case");
}

/* The path of a url record: [a/ID/]urls/HEX, ID 32 and HEX 64 lowercase
 * hex digits, HEX the case's (spec/cases.md section 8). */
static int path_check(const char *p, size_t n, const char *case_id)
{
	static const char dir[] = "urls";
	const char *hex = case_id + CASE_PREFIX_LEN;
	size_t at = 0;

	if (n > 2 && p[0] == 'a' && p[1] == '/') {
		if (n < 2 + 32 + 1 || hex_check(p + 2, 32, 32, "path") != HLX_OK ||
		    p[2 + 32] != '/') {
			hlx_err_clear();
			return hlx_err(HLX_EINVAL, "'path' is not [a/ID/]urls/HEX");
		}
		at = 2 + 32 + 1;
	}
	if (n - at != sizeof(dir) + 64 || memcmp(p + at, dir, sizeof(dir) - 1) != 0 ||
	    p[at + sizeof(dir) - 1] != '/')
		return hlx_err(HLX_EINVAL, "'path' is not [a/ID/]urls/HEX");
	if (memcmp(p + at + sizeof(dir), hex, 64) != 0)
		return hlx_err(HLX_EINVAL, "'path' does not name the file of the case");
	return HLX_OK;
}

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

/* Every field of a record except seq and key, as the appender takes it. */
static int rec_check(const struct hlx_audit_rec *r)
{
	int rc;

	if (!hlx_time_valid(r->time))
		return hlx_err(HLX_EINVAL, "'time' out of range");
	if (r->kind == HLX_AUDIT_URL) {
		if (!terminated(r->peer, sizeof(r->peer)) ||
		    !terminated(r->case_id, sizeof(r->case_id)) ||
		    !terminated(r->org, sizeof(r->org)) ||
		    !terminated(r->path, sizeof(r->path)))
			return hlx_err(HLX_EINVAL, "a text field is not terminated");
		rc = hlx_name_check(r->peer, strlen(r->peer), "peer");
		if (!rc)
			rc = case_check(r->case_id, strlen(r->case_id));
		if (!rc && hlx_org_validate(r->org) != HLX_OK) {
			hlx_err_clear();
			rc = hlx_err(HLX_EINVAL, "'org' is not an organisation name");
		}
		if (!rc)
			rc = path_check(r->path, strlen(r->path), r->case_id);
		return rc;
	}
	if (r->kind != HLX_AUDIT_DISCLOSURE)
		return hlx_err(HLX_EINVAL, "unknown kind of audit record %d", r->kind);
	if (!terminated(r->peer, sizeof(r->peer)) ||
	    !terminated(r->list, sizeof(r->list)) ||
	    !terminated(r->audience, sizeof(r->audience)) ||
	    !terminated(r->policy, sizeof(r->policy)))
		return hlx_err(HLX_EINVAL, "a text field is not terminated");
	rc = hlx_name_check(r->peer, strlen(r->peer), "peer");
	if (!rc)
		rc = hlx_list_name_check(r->list);
	if (!rc)
		rc = hex_check(r->audience, strlen(r->audience), 32, "audience");
	if (!rc)
		rc = hex_check(r->policy, strlen(r->policy), 64, "policy");
	if (rc)
		return rc;
	if (r->from == 0 || r->from > r->to)
		return hlx_err(HLX_EINVAL, "versions %llu..%llu: need 1 <= from <= to",
			       (unsigned long long)r->from,
			       (unsigned long long)r->to);
	if (r->to > INT64_MAX || r->entries > INT64_MAX)
		return hlx_err(HLX_EINVAL, "'to' or 'entries' out of range");
	return HLX_OK;
}

static json_t *body_json(const struct hlx_audit_line *l)
{
	const struct hlx_audit_rec *r = &l->rec;
	char t[HLX_TIME_TEXT];

	hlx_time_format(r->time, t);
	if (r->kind == HLX_AUDIT_URL)
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}",
				 "case", r->case_id,
				 "key", r->key,
				 "kind", "url",
				 "org", r->org,
				 "path", r->path,
				 "peer", r->peer,
				 "prev", l->prev,
				 "seq", (json_int_t)r->seq,
				 "time", t);
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}",
			 "audience", r->audience,
			 "entries", (json_int_t)r->entries,
			 "from", (json_int_t)r->from,
			 "key", r->key,
			 "list", r->list,
			 "peer", r->peer,
			 "policy", r->policy,
			 "prev", l->prev,
			 "seq", (json_int_t)r->seq,
			 "time", t,
			 "to", (json_int_t)r->to);
}

int hlx_audit_format(const struct hlx_audit_line *l, int with_sig,
		     struct hlx_buf *out)
{
	char b64[SIG_B64_LEN + 1];
	json_t *o = NULL;
	char *s = NULL;
	int rc;

	rc = rec_check(&l->rec);
	if (!rc && (memchr(l->prev, '\0', sizeof(l->prev)) == NULL ||
		    memchr(l->rec.key, '\0', sizeof(l->rec.key)) == NULL))
		rc = hlx_err(HLX_EINVAL, "a text field is not terminated");
	if (!rc)
		rc = hex_check(l->prev, strlen(l->prev), 64, "prev");
	if (!rc)
		rc = fpr_check(l->rec.key, strlen(l->rec.key));
	if (!rc && (l->rec.seq == 0 || l->rec.seq > INT64_MAX))
		rc = hlx_err(HLX_EINVAL, "'seq' out of range");
	if (rc)
		return hlx_err_wrap(rc, "audit record");
	o = body_json(l);
	if (o && with_sig) {
		sodium_bin2base64(b64, sizeof(b64), l->sig, HLX_SIG_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		if (json_object_set_new(o, "sig", json_string(b64)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	if (o)
		s = hlx_signed_canonical(o);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode an audit record");
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

static int get_s(json_t *o, const char *k, const char **s, size_t *n)
{
	return hlx_signed_str(NULL, o, k, s, n);
}

static int get_u(json_t *o, const char *k, uint64_t *u)
{
	return hlx_signed_count(NULL, o, k, u);
}

static int get_text(json_t *o, const char *k, char *dst, size_t cap)
{
	const char *s;
	size_t n;
	int rc = get_s(o, k, &s, &n);

	if (rc)
		return rc;
	if (n >= cap)
		return hlx_err(HLX_EINVAL, "'%s' longer than %zu characters", k,
			       cap - 1);
	memcpy(dst, s, n + 1);
	return HLX_OK;
}

/* The members of one form of record (seq, time, prev, key and sig are
 * read by parse_obj for both). */
static int parse_disclosure(json_t *o, struct hlx_audit_rec *r)
{
	int rc;

	if (json_object_size(o) != NMEMBERS)
		return hlx_err(HLX_EINVAL, "%zu members, want %d",
			       json_object_size(o), NMEMBERS);
	if ((rc = get_u(o, "from", &r->from)) ||
	    (rc = get_u(o, "to", &r->to)) ||
	    (rc = get_u(o, "entries", &r->entries)))
		return rc;
	if ((rc = get_text(o, "list", r->list, sizeof(r->list))) ||
	    (rc = get_text(o, "audience", r->audience, sizeof(r->audience))) ||
	    (rc = get_text(o, "policy", r->policy, sizeof(r->policy))))
		return rc;
	return HLX_OK;
}

static int parse_url(json_t *o, struct hlx_audit_rec *r)
{
	const char *s;
	size_t n;
	int rc;

	if (json_object_size(o) != NMEMBERS_URL)
		return hlx_err(HLX_EINVAL, "%zu members, want %d for kind \"url\"",
			       json_object_size(o), NMEMBERS_URL);
	if ((rc = get_s(o, "kind", &s, &n)))
		return rc;
	if (n != 3 || memcmp(s, "url", 3) != 0)
		return hlx_err(HLX_EINVAL, "'kind' is not \"url\"");
	r->kind = HLX_AUDIT_URL;
	if ((rc = get_text(o, "case", r->case_id, sizeof(r->case_id))) ||
	    (rc = get_text(o, "org", r->org, sizeof(r->org))) ||
	    (rc = get_text(o, "path", r->path, sizeof(r->path))))
		return rc;
	return HLX_OK;
}

static int parse_obj(json_t *o, struct hlx_audit_line *l)
{
	struct hlx_audit_rec *r = &l->rec;
	char b64[SIG_B64_LEN + 1];
	const char *s;
	size_t n, len;
	int rc;

	rc = json_object_get(o, "kind") ? parse_url(o, r) : parse_disclosure(o, r);
	if (rc)
		return rc;
	if ((rc = get_u(o, "seq", &r->seq)))
		return rc;
	if (r->seq == 0)
		return hlx_err(HLX_EINVAL, "'seq' starts at 1");
	if ((rc = get_s(o, "time", &s, &n)) ||
	    (rc = hlx_time_parse(s, n, &r->time)))
		return hlx_err_wrap(rc, "'time'");
	if ((rc = get_text(o, "peer", r->peer, sizeof(r->peer))) ||
	    (rc = get_text(o, "prev", l->prev, sizeof(l->prev))) ||
	    (rc = get_text(o, "key", r->key, sizeof(r->key))))
		return rc;
	if ((rc = hex_check(l->prev, strlen(l->prev), 64, "prev")) ||
	    (rc = fpr_check(r->key, strlen(r->key))) ||
	    (rc = rec_check(r)))
		return rc;
	if ((rc = get_s(o, "sig", &s, &n)))
		return rc;
	if (n != SIG_B64_LEN ||
	    sodium_base642bin(l->sig, sizeof(l->sig), s, n, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != HLX_SIG_LEN)
		return hlx_err(HLX_EINVAL, "'sig' is not the base64 of %d bytes",
			       HLX_SIG_LEN);
	/* one text per signature: no stray bits in the last character */
	sodium_bin2base64(b64, sizeof(b64), l->sig, HLX_SIG_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	if (memcmp(b64, s, SIG_B64_LEN) != 0)
		return hlx_err(HLX_EINVAL, "'sig' is not in canonical base64");
	return HLX_OK;
}

int hlx_audit_parse(const char *line, size_t n, struct hlx_audit_line *out)
{
	struct hlx_audit_line *l;
	json_error_t jerr;
	json_t *o = NULL;
	char *canon = NULL;
	int rc;

	if (n > HLX_AUDIT_LINE_MAX)
		return hlx_err(HLX_ETOOBIG, "line of %zu bytes (at most %d)", n,
			       HLX_AUDIT_LINE_MAX);
	l = calloc(1, sizeof(*l));
	if (!l)
		return hlx_err(HLX_ENOMEM, "out of memory");
	o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o)) {
		rc = hlx_err(HLX_EINVAL, "not a JSON object%s%s", o ? "" : ": ",
			     o ? "" : jerr.text);
		goto out;
	}
	canon = hlx_signed_canonical(o);
	if (!canon || strlen(canon) != n || memcmp(canon, line, n) != 0) {
		rc = hlx_err(HLX_EINVAL, "not in canonical form");
		goto out;
	}
	rc = parse_obj(o, l);
	if (!rc)
		*out = *l;
out:
	free(canon);
	json_decref(o);
	sodium_memzero(l, sizeof(*l));
	free(l);
	return rc;
}

/* ---- files ---- */

static int log_path(const char *home, char path[PATH_MAX])
{
	return hlx_home_path(path, home, HLX_HOME_AUDIT, NULL, NULL);
}

static int pread_all(int fd, const char *path, uint8_t *p, size_t n, off_t at)
{
	while (n) {
		ssize_t r = pread(fd, p, n, at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return hlx_err(HLX_EIO, "cannot read '%s': %s", path,
				       r < 0 ? strerror(errno) : "short read");
		p += r;
		n -= (size_t)r;
		at += r;
	}
	return HLX_OK;
}

/* Where the log stands: the last complete line's seq, time and hash. */
struct tail {
	uint64_t seq;
	int64_t time;
	char hash[65];
};

static void line_hash(const uint8_t *p, size_t n, char out[65])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, p, n);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* Cut a torn last line, then read the last complete one. */
static int read_tail(int fd, const char *path, struct tail *t)
{
	uint8_t *buf = NULL;
	struct hlx_audit_line *l = NULL;
	struct stat st;
	size_t len, end, start;
	off_t size, at;
	int rc;

	memcpy(t->hash, ZERO_HASH, 65);
	t->seq = 0;
	t->time = HLX_TIME_MIN;
	if (fstat(fd, &st) != 0)
		return hlx_err(HLX_EIO, "cannot stat '%s': %s", path, strerror(errno));
	size = st.st_size;
	if (size == 0)
		return HLX_OK;
	len = (size_t)(size < HLX_AUDIT_LINE_MAX + 2 ? size : HLX_AUDIT_LINE_MAX + 2);
	at = size - (off_t)len;
	buf = malloc(len);
	l = malloc(sizeof(*l));
	if (!buf || !l) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	rc = pread_all(fd, path, buf, len, at);
	if (rc)
		goto out;
	end = len;
	if (buf[len - 1] != '\n') {
		/* torn: keep up to the last newline */
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (end == 0 && at > 0) {
			rc = hlx_err(HLX_EINVAL,
				     "'%s': last line longer than %d bytes",
				     path, HLX_AUDIT_LINE_MAX);
			goto out;
		}
		if (ftruncate(fd, at + (off_t)end) != 0 || fsync(fd) != 0) {
			rc = hlx_err(HLX_EIO, "cannot cut the torn last line of '%s': %s",
				     path, strerror(errno));
			goto out;
		}
		if (end == 0)
			goto out; /* nothing complete was left */
	}
	/* buf[end - 1] is the newline ending the last complete line */
	start = end - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && at > 0) {
		rc = hlx_err(HLX_EINVAL, "'%s': last line longer than %d bytes",
			     path, HLX_AUDIT_LINE_MAX);
		goto out;
	}
	rc = hlx_audit_parse((const char *)buf + start, end - 1 - start, l);
	if (rc) {
		rc = hlx_err_wrap(rc, "'%s': last line", path);
		goto out;
	}
	t->seq = l->rec.seq;
	t->time = l->rec.time;
	line_hash(buf + start, end - 1 - start, t->hash);
out:
	free(l);
	free(buf);
	return rc;
}

static int open_log(const char *path, int *fdp, int *created)
{
	struct stat st;
	int fd;

	*created = 0;
	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC, 0600);
		*created = fd >= 0;
		if (fd < 0 && errno == EEXIST) /* another appender made it */
			fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return hlx_err(HLX_EPERM, "'%s' is a symbolic link", path);
		return hlx_err(HLX_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return hlx_err(HLX_EIO, "cannot stat '%s': %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return hlx_err(HLX_EPERM, "'%s' is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return hlx_err(HLX_EPERM,
			       "'%s' is accessible by group or others (mode %04o); run: chmod 600 '%s'",
			       path, (unsigned)(st.st_mode & 07777), path);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return hlx_err(HLX_EPERM, "'%s' is owned by uid %u, not by us", path,
			       (unsigned)st.st_uid);
	}
	*fdp = fd;
	return HLX_OK;
}

/* Build the lines of the batch after tail t into out. */
static int build_lines(const struct hlx_seckey *signer,
		       const struct hlx_audit_rec *recs, size_t n,
		       const struct tail *t, struct hlx_buf *out)
{
	struct hlx_audit_line *l = calloc(1, sizeof(*l));
	struct hlx_buf body = HLX_BUF_INIT;
	struct hlx_pubkey pub;
	char fpr[HLX_FPR_LEN], prev[65];
	int64_t last = t->time;
	size_t start;
	int rc = HLX_OK;

	if (!l)
		return hlx_err(HLX_ENOMEM, "out of memory");
	hlx_seckey_public(signer, &pub);
	hlx_sshkey_fingerprint(&pub, fpr);
	memcpy(prev, t->hash, sizeof(prev));
	for (size_t i = 0; i < n && !rc; i++) {
		l->rec = recs[i];
		l->rec.seq = t->seq + 1 + i;
		memcpy(l->rec.key, fpr, sizeof(fpr));
		memcpy(l->prev, prev, sizeof(prev));
		if ((rc = rec_check(&l->rec))) {
			rc = hlx_err_wrap(rc, "audit record %zu (peer '%.64s')", i + 1,
					  memchr(recs[i].peer, '\0', sizeof(recs[i].peer)) ?
					  recs[i].peer : "?");
			break;
		}
		if (l->rec.time < last) {
			char a[HLX_TIME_TEXT], b[HLX_TIME_TEXT];

			hlx_time_format(l->rec.time, a);
			hlx_time_format(last, b);
			rc = hlx_err(HLX_EINVAL,
				     "audit record %zu: time %s is before the last record's %s",
				     i + 1, a, b);
			break;
		}
		last = l->rec.time;
		hlx_buf_reset(&body);
		rc = hlx_audit_format(l, 0, &body);
		if (!rc)
			rc = hlx_seckey_sign(signer, body.data, body.len, l->sig);
		start = out->len;
		if (!rc)
			rc = hlx_audit_format(l, 1, out);
		if (!rc && out->len - start > HLX_AUDIT_LINE_MAX)
			rc = hlx_err(HLX_ETOOBIG, "audit record %zu: line too long",
				     i + 1);
		if (!rc)
			line_hash(out->data + start, out->len - start, prev);
		if (!rc)
			rc = hlx_buf_putc(out, '\n');
	}
	hlx_buf_free(&body);
	free(l);
	return rc;
}

int hlx_audit_append(const char *home, const struct hlx_seckey *signer,
		     const struct hlx_audit_rec *recs, size_t n)
{
	struct hlx_buf lines = HLX_BUF_INIT;
	char path[PATH_MAX];
	struct tail t;
	int fd = -1, created = 0, rc;

	if (n == 0)
		return hlx_err(HLX_EINVAL, "no audit record to append");
	rc = log_path(home, path);
	if (!rc)
		rc = open_log(path, &fd, &created);
	if (rc)
		return rc;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rc = hlx_err(HLX_EIO, "cannot lock '%s': %s", path,
				     strerror(errno));
			goto out;
		}
	}
	rc = read_tail(fd, path, &t);
	if (!rc)
		rc = build_lines(signer, recs, n, &t, &lines);
	if (!rc && hlx_write_all(fd, lines.data, lines.len) != 0)
		rc = hlx_err(HLX_EIO, "cannot write '%s': %s", path,
			     strerror(errno));
	if (!rc && fsync(fd) != 0)
		rc = hlx_err(HLX_EIO, "cannot sync '%s': %s", path, strerror(errno));
	if (!rc && created)
		rc = hlx_fsync_path(home, 1);
out:
	close(fd); /* releases the lock */
	hlx_buf_free(&lines);
	return rc;
}

int hlx_audit_append_url(const char *home, const struct hlx_seckey *signer,
			 int64_t time, const char *peer, const char *org,
			 const char *case_id, const char *path)
{
	struct hlx_audit_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = HLX_AUDIT_URL;
	r.time = time;
	if (snprintf(r.peer, sizeof(r.peer), "%s", peer) >= (int)sizeof(r.peer) ||
	    snprintf(r.org, sizeof(r.org), "%s", org) >= (int)sizeof(r.org) ||
	    snprintf(r.case_id, sizeof(r.case_id), "%s", case_id) >=
		    (int)sizeof(r.case_id) ||
	    snprintf(r.path, sizeof(r.path), "%s", path) >= (int)sizeof(r.path))
		return hlx_err(HLX_EINVAL, "audit record: a field is too long");
	return hlx_audit_append(home, signer, &r, 1);
}

/* ---- verification ---- */

struct reader {
	const struct hlx_trust *chain;
	int (*cb)(void *ctx, const struct hlx_audit_rec *r);
	void *ctx;
	uint64_t lineno;
	int64_t last_time;
	char prev[65];
	struct hlx_audit_line l;
	struct hlx_buf body;
	/* the last signer found in the chain, to skip the search */
	char last_fpr[HLX_FPR_LEN];
	struct hlx_pubkey last_key;
};

static int find_key(struct reader *rd, const char *fpr, struct hlx_pubkey *out)
{
	char f[HLX_FPR_LEN];
	size_t n = hlx_trust_nkeys(rd->chain);

	if (rd->last_fpr[0] && !strcmp(rd->last_fpr, fpr)) {
		*out = rd->last_key;
		return HLX_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hlx_trust_key *k = hlx_trust_key(rd->chain, i);

		hlx_sshkey_fingerprint(&k->key, f);
		if (!strcmp(f, fpr)) {
			*out = k->key;
			memcpy(rd->last_fpr, f, sizeof(f));
			rd->last_key = k->key;
			return HLX_OK;
		}
	}
	return hlx_err(HLX_EBADSIG, "line %llu: signer %s is not a key of the trust chain of '%s'",
		       (unsigned long long)rd->lineno, fpr, hlx_trust_org(rd->chain));
}

static int verify_line(struct reader *rd, const uint8_t *p, size_t n)
{
	struct hlx_audit_line *l = &rd->l;
	struct hlx_pubkey key;
	int rc;

	rd->lineno++;
	rc = hlx_audit_parse((const char *)p, n, l);
	if (rc)
		return hlx_err_wrap(rc, "line %llu", (unsigned long long)rd->lineno);
	if (l->rec.seq != rd->lineno)
		return hlx_err(HLX_EBADSIG, "line %llu: seq %llu, want %llu",
			       (unsigned long long)rd->lineno,
			       (unsigned long long)l->rec.seq,
			       (unsigned long long)rd->lineno);
	if (strcmp(l->prev, rd->prev) != 0)
		return hlx_err(HLX_EBADSIG,
			       "line %llu: 'prev' is not the hash of the line before (a line was changed, removed or inserted)",
			       (unsigned long long)rd->lineno);
	rc = find_key(rd, l->rec.key, &key);
	if (rc)
		return rc;
	hlx_buf_reset(&rd->body);
	rc = hlx_audit_format(l, 0, &rd->body);
	if (rc)
		return hlx_err_wrap(rc, "line %llu", (unsigned long long)rd->lineno);
	if (hlx_pubkey_verify(&key, rd->body.data, rd->body.len, l->sig) != HLX_OK)
		return hlx_err(HLX_EBADSIG, "line %llu: bad signature by %s",
			       (unsigned long long)rd->lineno, l->rec.key);
	if (hlx_trust_check(rd->chain, &key, l->rec.time) != HLX_OK) {
		char t[HLX_TIME_TEXT];

		hlx_time_format(l->rec.time, t);
		return hlx_err_wrap(HLX_EBADSIG, "line %llu: signer %s not valid at %s",
				    (unsigned long long)rd->lineno, l->rec.key, t);
	}
	if (l->rec.time < rd->last_time)
		return hlx_err(HLX_EBADSIG, "line %llu: time goes back from the line before",
			       (unsigned long long)rd->lineno);
	rd->last_time = l->rec.time;
	line_hash(p, n, rd->prev);
	return rd->cb ? rd->cb(rd->ctx, &l->rec) : HLX_OK;
}

int hlx_audit_read(const char *home, const struct hlx_trust *chain,
		   int (*cb)(void *ctx, const struct hlx_audit_rec *r),
		   void *ctx)
{
	struct reader *rd = NULL;
	struct hlx_buf b = HLX_BUF_INIT;
	char path[PATH_MAX];
	size_t used, r;
	int fd = -1, rc;

	rc = log_path(home, path);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return HLX_OK;
		if (errno == ELOOP)
			return hlx_err(HLX_EPERM, "'%s' is a symbolic link", path);
		return hlx_err(HLX_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		rc = hlx_err(HLX_ENOMEM, "out of memory");
		goto out;
	}
	rd->chain = chain;
	rd->cb = cb;
	rd->ctx = ctx;
	rd->last_time = HLX_TIME_MIN;
	memcpy(rd->prev, ZERO_HASH, sizeof(rd->prev));
	hlx_buf_init(&rd->body);
	rc = hlx_buf_reserve(&b, 2 * (HLX_AUDIT_LINE_MAX + 1));
	while (!rc) {
		rc = hlx_read_some(fd, path, b.data + b.len, b.cap - b.len - 1,
				   &r);
		if (rc)
			break;
		if (r == 0) {
			if (b.len)
				rc = hlx_err(HLX_EINVAL,
					     "line %llu: incomplete (no newline): an append was interrupted, the next one cuts it",
					     (unsigned long long)rd->lineno + 1);
			break;
		}
		b.len += r;
		used = 0;
		for (;;) {
			uint8_t *nl = memchr(b.data + used, '\n', b.len - used);

			if (!nl)
				break;
			rc = verify_line(rd, b.data + used, (size_t)(nl - (b.data + used)));
			if (rc)
				break;
			used = (size_t)(nl - b.data) + 1;
		}
		if (rc)
			break;
		memmove(b.data, b.data + used, b.len - used);
		b.len -= used;
		if (b.len > HLX_AUDIT_LINE_MAX)
			rc = hlx_err(HLX_ETOOBIG, "line %llu: longer than %d bytes",
				     (unsigned long long)rd->lineno + 1,
				     HLX_AUDIT_LINE_MAX);
	}
out:
	if (rd) {
		hlx_buf_free(&rd->body);
		free(rd);
	}
	hlx_buf_free(&b);
	close(fd);
	return rc;
}
