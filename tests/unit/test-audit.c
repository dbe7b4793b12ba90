/* SPDX-License-Identifier: MIT */
/*
 * The audit log: append and read back, the line format, the hlx audit
 * command with its filters, and every defect the reader must refuse
 * (any single-byte change, removed or reordered lines, foreign and revoked
 * signers, torn lines, unsafe files).
 */
#include "tap.h"
#include "node/audit.h"
#include "node/cli/cmds.h"
#include "node/home.h"
#include "node/files.h"
#include "keys/sshkey.h"
#include "protocol/rtime.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1800000000LL /* 2027-01-15 */
#define DAY 86400LL

static struct hlx_seckey *root, *sign1, *sign2, *stranger;
static struct hlx_pubkey psign1, psign2;
static struct hlx_trust *chain;
static char home[256], logp[PATH_MAX];

static struct hlx_seckey *key(struct hlx_pubkey *pub)
{
	struct hlx_seckey *k = NULL;
	struct hlx_pubkey p;

	hlx_seckey_generate(&k);
	hlx_seckey_public(k, pub ? pub : &p);
	return k;
}

static struct hlx_audit_rec rec(int64_t t, const char *peer, const char *list,
				uint64_t from, uint64_t to, uint64_t entries)
{
	struct hlx_audit_rec r;

	memset(&r, 0, sizeof(r));
	r.time = t;
	snprintf(r.peer, sizeof(r.peer), "%s", peer);
	snprintf(r.list, sizeof(r.list), "%s", list);
	memcpy(r.audience, "0123456789abcdef0123456789abcdef", 33);
	memcpy(r.policy, "aa00000000000000000000000000000000000000000000000000000000000001", 65);
	r.from = from;
	r.to = to;
	r.entries = entries;
	return r;
}

struct got {
	size_t n;
	struct hlx_audit_rec v[16];
};

static int keep(void *ctx, const struct hlx_audit_rec *r)
{
	struct got *g = ctx;

	if (g->n < 16)
		g->v[g->n] = *r;
	g->n++;
	return 0;
}

static int read_log(struct got *g)
{
	memset(g, 0, sizeof(*g));
	return hlx_audit_read(home, chain, keep, g);
}

static void write_raw(const void *p, size_t n)
{
	int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void read_raw(struct hlx_buf *b)
{
	if (hlx_file_read(logp, 1 << 20, b) != HLX_OK)
		abort();
}

static size_t nlines(const struct hlx_buf *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/* Offsets of the starts of lines 1..3 and the end. */
static void line_starts(const struct hlx_buf *b, size_t *s, size_t max)
{
	size_t k = 0;

	s[k++] = 0;
	for (size_t i = 0; i < b->len && k < max; i++)
		if (b->data[i] == '\n')
			s[k++] = i + 1;
}

static void test_basic(void)
{
	struct hlx_audit_rec r[3];
	struct got g;
	struct stat st;
	char fpr[HLX_FPR_LEN];

	unlink(logp);
	is_rc(read_log(&g), HLX_OK, "a missing log reads as empty");
	ok(g.n == 0, "no record in a missing log");
	r[0] = rec(T0 + 10, "peer-b", "uk-a", 1, 3, 120);
	r[1] = rec(T0 + 10, "peer-c", "uk-a", 1, 3, 80);
	r[2] = rec(T0 + 20, "peer-b", "peer-x/list.2", 4, 4, 121);
	is_rc(hlx_audit_append(home, sign1, r, 2), HLX_OK, "append two records");
	ok(stat(logp, &st) == 0 && (st.st_mode & 07777) == 0600, "log created 0600");
	is_rc(hlx_audit_append(home, sign1, r + 2, 1), HLX_OK, "append a third");
	is_rc(read_log(&g), HLX_OK, "read back verifies");
	ok(g.n == 3, "three records read (%zu)", g.n);
	hlx_sshkey_fingerprint(&psign1, fpr);
	for (size_t i = 0; i < 3 && i < g.n; i++) {
		ok(g.v[i].seq == i + 1, "record %zu has seq %zu", i + 1, i + 1);
		ok(g.v[i].time == r[i].time && !strcmp(g.v[i].peer, r[i].peer) &&
		   !strcmp(g.v[i].list, r[i].list) &&
		   !strcmp(g.v[i].audience, r[i].audience) &&
		   g.v[i].from == r[i].from && g.v[i].to == r[i].to &&
		   g.v[i].entries == r[i].entries &&
		   !strcmp(g.v[i].policy, r[i].policy),
		   "record %zu reads back as written", i + 1);
		is_str(g.v[i].key, fpr, "record %zu names the signer", i + 1);
	}
	is_rc(hlx_audit_append(home, sign1, r, 0), HLX_EINVAL, "empty batch refused");
}

static void test_format(void)
{
	struct hlx_buf b = HLX_BUF_INIT, f = HLX_BUF_INIT;
	struct hlx_audit_line l;
	size_t s[4];
	char first[65];

	read_raw(&b);
	line_starts(&b, s, 4);
	is_rc(hlx_audit_parse((char *)b.data, s[1] - 1, &l), HLX_OK,
	      "the first line parses");
	ok(l.rec.seq == 1, "seq 1");
	is_str(l.prev, "0000000000000000000000000000000000000000000000000000000000000000",
	       "the first prev is 64 zeros");
	ok(hlx_audit_format(&l, 1, &f) == HLX_OK && f.len == s[1] - 1 &&
	   !memcmp(f.data, b.data, f.len), "format gives the line back byte for byte");
	ok(!memcmp(b.data, "{\"audience\":\"", 13), "members sorted, compact");
	ok(strstr((char *)f.data, "\"time\":\"2027-01-15T08:00:10Z\"") != NULL,
	   "time in RFC 3339");
	hlx_buf_reset(&f);
	ok(hlx_audit_format(&l, 0, &f) == HLX_OK && !strstr((char *)f.data, "\"sig\""),
	   "the signed message has no sig member");
	{
		uint8_t h[32];

		crypto_hash_sha256(h, b.data, s[1] - 1);
		sodium_bin2hex(first, sizeof(first), h, 32);
	}
	is_rc(hlx_audit_parse((char *)b.data + s[1], s[2] - s[1] - 1, &l), HLX_OK,
	      "the second line parses");
	is_str(l.prev, first, "prev is the sha256 of the line before");

	/* malformed lines */
	is_rc(hlx_audit_parse("{}", 2, &l), HLX_EINVAL, "empty object refused");
	is_rc(hlx_audit_parse("[1]", 3, &l), HLX_EINVAL, "array refused");
	{
		/* non-canonical: a space after the first colon */
		struct hlx_buf m = HLX_BUF_INIT;

		hlx_buf_put(&m, b.data, 12);
		hlx_buf_putc(&m, ' ');
		hlx_buf_put(&m, b.data + 12, s[1] - 1 - 12);
		is_rc(hlx_audit_parse((char *)m.data, m.len, &l), HLX_EINVAL,
		      "non-canonical spacing refused");
		hlx_buf_free(&m);
	}
	{
		char big[HLX_AUDIT_LINE_MAX + 2];

		memset(big, ' ', sizeof(big));
		is_rc(hlx_audit_parse(big, sizeof(big), &l), HLX_ETOOBIG,
		      "oversized line refused");
	}
	hlx_buf_free(&b);
	hlx_buf_free(&f);
}

static void test_invalid_recs(void)
{
	struct hlx_audit_rec r = rec(T0 + 30, "peer-b", "uk-a", 1, 1, 0);
	struct got g;

	r.from = 0;
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "from 0 refused");
	r.from = 3; r.to = 2;
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "from > to refused");
	r = rec(T0 + 30, "Peer B", "uk-a", 1, 1, 0);
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "bad peer name refused");
	r = rec(T0 + 30, "peer-b", "a/b/c", 1, 1, 0);
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "bad list name refused");
	r = rec(T0 + 30, "peer-b", "uk-a", 1, 1, 0);
	r.audience[3] = 'G';
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "bad audience refused");
	r = rec(T0 + 30, "peer-b", "uk-a", 1, 1, 0);
	r.policy[63] = '\0';
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL, "short policy refused");
	ok(strstr(hlx_err_detail(), "'policy' must be 64 hex digits, got 63") &&
	   !strstr(hlx_err_detail(), "(null)"),
	   "the detail names the member, no file kind (%s)", hlx_err_detail());
	r = rec(T0 + 5, "peer-b", "uk-a", 1, 1, 0);
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_EINVAL,
	      "a time before the last record's refused");
	{
		struct hlx_audit_rec two[2] = { rec(T0 + 40, "peer-b", "uk-a", 1, 1, 0),
						rec(T0 + 39, "peer-b", "uk-a", 1, 1, 0) };

		is_rc(hlx_audit_append(home, sign1, two, 2), HLX_EINVAL,
		      "a batch going back in time refused");
	}
	is_rc(read_log(&g), HLX_OK, "refused appends left the log intact");
	ok(g.n == 3, "still three records");
}

/*
 * Every single-byte change of the 3-record log must fail verification: all
 * 255 other values at every position.  A change the line parser already
 * refuses is refused by the reader too (it parses every line first); that
 * is checked in memory, and through the reader for every 61st such change.
 * Every change that still parses, and every change of or to a newline, goes
 * through the reader.
 */
static void test_every_byte(void)
{
	struct hlx_buf b = HLX_BUF_INIT, m = HLX_BUF_INIT;
	unsigned long tried = 0, passed = 0, full = 0;
	struct hlx_audit_line l;
	size_t s[4];
	struct got g;

	read_raw(&b);
	ok(nlines(&b) == 3, "the log has three lines");
	line_starts(&b, s, 4);
	hlx_buf_put(&m, b.data, b.len);
	for (size_t i = 0; i < b.len; i++) {
		size_t k = i < s[1] ? 0 : i < s[2] ? 1 : 2;

		for (unsigned v = 0; v < 256; v++) {
			int verified;

			if (v == b.data[i])
				continue;
			m.data[i] = (uint8_t)v;
			tried++;
			if (b.data[i] != '\n' && v != '\n' &&
			    hlx_audit_parse((char *)m.data + s[k], s[k + 1] - 1 - s[k],
					    &l) != HLX_OK && tried % 61) {
				m.data[i] = b.data[i];
				continue;
			}
			write_raw(m.data, m.len);
			full++;
			verified = read_log(&g) == HLX_OK;
			if (verified && passed++ < 5)
				printf("# byte %zu changed to 0x%02x verified\n", i, v);
		}
		m.data[i] = b.data[i];
	}
	ok(passed == 0, "all %lu single-byte changes of %zu bytes fail verification "
	   "(%lu through the reader)", tried, b.len, full);
	write_raw(b.data, b.len);
	is_rc(read_log(&g), HLX_OK, "the original log verifies again");
	hlx_buf_free(&b);
	hlx_buf_free(&m);
}

static void test_lines(void)
{
	struct hlx_buf b = HLX_BUF_INIT, m = HLX_BUF_INIT;
	size_t s[4];
	struct got g;
	int rc;

	read_raw(&b);
	line_starts(&b, s, 4);
	/* remove line 2 */
	hlx_buf_put(&m, b.data, s[1]);
	hlx_buf_put(&m, b.data + s[2], s[3] - s[2]);
	write_raw(m.data, m.len);
	rc = read_log(&g);
	is_rc(rc, HLX_EBADSIG, "a removed middle line fails");
	ok(strstr(hlx_err_detail(), "line 2:") != NULL, "the detail names line 2 (%s)",
	   hlx_err_detail());
	/* swap lines 2 and 3 */
	hlx_buf_reset(&m);
	hlx_buf_put(&m, b.data, s[1]);
	hlx_buf_put(&m, b.data + s[2], s[3] - s[2]);
	hlx_buf_put(&m, b.data + s[1], s[2] - s[1]);
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_EBADSIG, "lines 2 and 3 swapped fail");
	/* swap lines 1 and 2 */
	hlx_buf_reset(&m);
	hlx_buf_put(&m, b.data + s[1], s[2] - s[1]);
	hlx_buf_put(&m, b.data, s[1]);
	hlx_buf_put(&m, b.data + s[2], s[3] - s[2]);
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_EBADSIG, "lines 1 and 2 swapped fail");
	/* the first line removed */
	write_raw(b.data + s[1], s[3] - s[1]);
	is_rc(read_log(&g), HLX_EBADSIG, "the first line removed fails");
	/* a line duplicated */
	hlx_buf_reset(&m);
	hlx_buf_put(&m, b.data, s[2]);
	hlx_buf_put(&m, b.data + s[1], s[3] - s[1]);
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_EBADSIG, "a duplicated line fails");
	/* an empty line */
	hlx_buf_reset(&m);
	hlx_buf_put(&m, b.data, s[1]);
	hlx_buf_putc(&m, '\n');
	hlx_buf_put(&m, b.data + s[1], s[3] - s[1]);
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_EINVAL, "an empty line fails");
	/* truncating the tail to a whole line is NOT detectable (spec/audit.md) */
	write_raw(b.data, s[2]);
	is_rc(read_log(&g), HLX_OK, "a log cut at a line end still verifies (documented)");
	ok(g.n == 2, "with the remaining records");
	/* a line too long */
	hlx_buf_reset(&m);
	hlx_buf_put(&m, b.data, s[1]);
	for (int i = 0; i < HLX_AUDIT_LINE_MAX + 10; i++)
		hlx_buf_putc(&m, 'x');
	hlx_buf_putc(&m, '\n');
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_ETOOBIG, "an oversized line fails");
	ok(g.n == 1, "after the line before it");
	write_raw(b.data, b.len);
	hlx_buf_free(&b);
	hlx_buf_free(&m);
}

static void test_signers(void)
{
	struct hlx_audit_rec r;
	struct got g;
	struct hlx_buf b = HLX_BUF_INIT;

	read_raw(&b);
	r = rec(T0 + 50, "peer-b", "uk-a", 5, 5, 122);
	is_rc(hlx_audit_append(home, stranger, &r, 1), HLX_OK,
	      "the appender does not check the chain");
	is_rc(read_log(&g), HLX_EBADSIG, "a line signed by a key not in the chain fails");
	ok(strstr(hlx_err_detail(), "line 4: signer SHA256:") &&
	   strstr(hlx_err_detail(), "not a key of the trust chain"),
	   "the detail says so (%s)", hlx_err_detail());
	ok(g.n == 3, "the records before it were verified");
	write_raw(b.data, b.len);

	/* the second signing key takes over: both verify */
	r = rec(T0 + 60, "peer-b", "uk-a", 5, 5, 122);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_OK, "append with sign2");
	is_rc(read_log(&g), HLX_OK, "a log with two delegated signers verifies");
	ok(g.n == 4 && strcmp(g.v[2].key, g.v[3].key) != 0, "the key changes at line 4");

	hlx_buf_reset(&b);
	read_raw(&b);
	/* revoke sign1 from T0 + 2 days on; its old records stay valid */
	is_rc(hlx_trust_revoke(chain, root, &psign1, T0 + 2 * DAY, T0 + 3 * DAY), HLX_OK,
	      "revoke sign1 from T0 + 2 days");
	is_rc(read_log(&g), HLX_OK, "records made before the revocation still verify");
	r = rec(T0 + 3 * DAY, "peer-c", "uk-a", 5, 5, 122);
	is_rc(hlx_audit_append(home, sign1, &r, 1), HLX_OK, "append with sign1 after it");
	is_rc(read_log(&g), HLX_EBADSIG, "a revoked signer after its revocation time fails");
	ok(strstr(hlx_err_detail(), "line 5: signer") != NULL, "detail: %s",
	   hlx_err_detail());
	ok(g.n == 4, "the four records before were verified");
	write_raw(b.data, b.len);
	r = rec(T0 + 400 * DAY, "peer-c", "uk-a", 5, 5, 122);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_OK,
	      "append with sign2 past its window");
	is_rc(read_log(&g), HLX_EBADSIG, "a record outside the signer's window fails");
	write_raw(b.data, b.len);
	hlx_buf_free(&b);
}

static void test_torn(void)
{
	struct hlx_buf b = HLX_BUF_INIT, m = HLX_BUF_INIT;
	struct hlx_audit_rec r;
	struct got g;
	size_t n;

	read_raw(&b);
	n = nlines(&b);
	hlx_buf_put(&m, b.data, b.len);
	hlx_buf_puts(&m, "{\"audience\":\"0123");
	write_raw(m.data, m.len);
	is_rc(read_log(&g), HLX_EINVAL, "a torn last line fails the reader");
	ok(strstr(hlx_err_detail(), "incomplete") != NULL, "detail: %s",
	   hlx_err_detail());
	r = rec(T0 + 70, "peer-b", "uk-a", 6, 6, 123);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_OK, "append after a torn line");
	is_rc(read_log(&g), HLX_OK, "the torn line was cut and the chain goes on");
	ok(g.n == n + 1 && g.v[n].seq == n + 1, "the new record follows the last whole one");
	/* a torn line that is all there is */
	write_raw("{\"aud", 5);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_OK, "append after a lone torn line");
	is_rc(read_log(&g), HLX_OK, "it starts the log");
	ok(g.n == 1 && g.v[0].seq == 1, "at seq 1");
	/* a broken last whole line: the appender refuses to chain onto it */
	write_raw("garbage\n", 8);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_EINVAL,
	      "append onto a malformed last line refused");
	write_raw(b.data, b.len);
	hlx_buf_free(&b);
	hlx_buf_free(&m);
}

static void test_perms(void)
{
	struct hlx_audit_rec r = rec(T0 + 80, "peer-b", "uk-a", 7, 7, 1);
	char other[PATH_MAX + 16];
	struct got g;

	chmod(logp, 0644);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_EPERM,
	      "a log readable by others is refused");
	chmod(logp, 0660);
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_EPERM,
	      "a log accessible by the group is refused");
	chmod(logp, 0600);
	snprintf(other, sizeof(other), "%s/elsewhere", home);
	rename(logp, other);
	ok(symlink("elsewhere", logp) == 0, "make audit.log a symlink");
	is_rc(hlx_audit_append(home, sign2, &r, 1), HLX_EPERM,
	      "a log behind a symlink is refused");
	is_rc(read_log(&g), HLX_EPERM, "and not read either");
	unlink(logp);
	rename(other, logp);
	is_rc(read_log(&g), HLX_OK, "restored log reads");
}

#define CASE_HEX "5d0c4b4b8e6ffc6e4f0e9d3b4d9e2a9e7f5b3c1d2e4f6a8b0c1d2e3f4a5b6c7d"
#define CASE_ID "url-sha256:" CASE_HEX
#define AUD "3f1c0a9e5b7d2468ace013579bdf0246"

static struct hlx_audit_rec urlrec(int64_t t, const char *peer, const char *org,
				   const char *case_id, const char *path)
{
	struct hlx_audit_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = HLX_AUDIT_URL;
	r.time = t;
	snprintf(r.peer, sizeof(r.peer), "%s", peer);
	snprintf(r.org, sizeof(r.org), "%s", org);
	snprintf(r.case_id, sizeof(r.case_id), "%s", case_id);
	snprintf(r.path, sizeof(r.path), "%s", path);
	return r;
}

/* Parse a line made from l by replacing from with to (once). */
static int parse_edited(const char *l, const char *from, const char *to)
{
	struct hlx_audit_line out;
	char buf[HLX_AUDIT_LINE_MAX + 256];
	const char *at = strstr(l, from);

	if (!at)
		return -999;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - l), l, to, at + strlen(from));
	return hlx_audit_parse(buf, strlen(buf), &out);
}

/* The second form: url records (spec/audit.md section 1.1), in the same
 * chain as disclosures. */
static void test_url(void)
{
	struct hlx_buf b = HLX_BUF_INIT, m = HLX_BUF_INIT, f = HLX_BUF_INIT;
	struct hlx_audit_rec r[2], bad;
	struct hlx_audit_line l;
	unsigned long tried = 0, passed = 0;
	size_t n, s[16], last;
	struct got g;
	char *line = NULL;

	read_raw(&b);
	n = nlines(&b);
	r[0] = urlrec(T0 + 90, "peer-b", "hotline-b", CASE_ID, "urls/" CASE_HEX);
	r[1] = urlrec(T0 + 90, "peer-c", "hotline-c", CASE_ID,
		      "a/" AUD "/urls/" CASE_HEX);
	is_rc(hlx_audit_append_url(home, sign2, r[0].time, r[0].peer, r[0].org,
				   r[0].case_id, r[0].path), HLX_OK,
	      "append a url record (open feed)");
	is_rc(hlx_audit_append(home, sign2, &r[1], 1), HLX_OK,
	      "append a url record (an audience's directory)");
	bad = rec(T0 + 91, "peer-b", "uk-a", 8, 8, 3);
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_OK,
	      "a disclosure after them, in the same chain");
	is_rc(read_log(&g), HLX_OK, "the log of both forms verifies");
	ok(g.n == n + 3, "%zu records", g.n);
	if (g.n == n + 3) {
		ok(g.v[n].kind == HLX_AUDIT_URL && g.v[n].seq == n + 1 &&
		   !strcmp(g.v[n].case_id, CASE_ID) && !strcmp(g.v[n].org, "hotline-b") &&
		   !strcmp(g.v[n].peer, "peer-b") &&
		   !strcmp(g.v[n].path, "urls/" CASE_HEX) && g.v[n].time == T0 + 90,
		   "the url record reads back as written");
		ok(g.v[n + 1].kind == HLX_AUDIT_URL &&
		   !strcmp(g.v[n + 1].path, "a/" AUD "/urls/" CASE_HEX),
		   "the second one too");
		ok(g.v[n + 2].kind == HLX_AUDIT_DISCLOSURE && g.v[n + 2].to == 8,
		   "and the disclosure after them");
	}
	hlx_buf_reset(&m);
	read_raw(&m);
	line_starts(&m, s, 16);
	last = s[n + 1] - s[n] - 1;
	line = strndup((char *)m.data + s[n], last);
	ok(line && !strncmp(line, "{\"case\":\"" CASE_ID "\",\"key\":\"SHA256:", 97) &&
	   strstr(line, "\"kind\":\"url\",\"org\":\"hotline-b\",\"path\":\"urls/"
		  CASE_HEX "\",\"peer\":\"peer-b\",\"prev\":\""),
	   "the line has exactly the members of spec/audit.md 1.1, sorted");
	ok(line && !strstr(line, "audience") && !strstr(line, "entries") &&
	   !strstr(line, "list"), "and none of a disclosure's");
	ok(line && hlx_audit_parse(line, last, &l) == HLX_OK &&
	   hlx_audit_format(&l, 1, &f) == HLX_OK && f.len == last &&
	   !memcmp(f.data, line, last), "it formats back byte for byte");
	hlx_buf_reset(&f);
	ok(line && hlx_audit_format(&l, 0, &f) == HLX_OK &&
	   !strstr((char *)f.data, "\"sig\"") && strstr((char *)f.data, "\"kind\":\"url\""),
	   "its signed message: every member but sig");
	/* malformed forms */
	if (line) {
		is_rc(parse_edited(line, "\"kind\":\"url\"", "\"kind\":\"urm\""),
		      HLX_EINVAL, "another kind is refused");
		is_rc(parse_edited(line, "\"kind\":\"url\",", ""), HLX_EINVAL,
		      "a url record without kind is refused");
		is_rc(parse_edited(line, "\"key\"", "\"entries\":1,\"key\""),
		      HLX_EINVAL, "a url record with a disclosure's member is refused");
		is_rc(parse_edited(line, "\"org\":\"hotline-b\",", ""), HLX_EINVAL,
		      "a url record without org is refused");
		is_rc(parse_edited(line, "urls/5d0c", "urls/6d0c"), HLX_EINVAL,
		      "a path naming another case is refused");
		is_rc(parse_edited(line, "\"urls/", "\"../urls/"), HLX_EINVAL,
		      "a path outside the layout is refused");
		is_rc(parse_edited(line, "url-sha256:5d", "url-sha256:5D"), HLX_EINVAL,
		      "an upper-case case id is refused");
		is_rc(parse_edited(line, "url-sha256:", "md5:"), HLX_EINVAL,
		      "a case id of another type is refused");
		is_rc(parse_edited(line, "hotline-b", "Hotline B"), HLX_EINVAL,
		      "a bad org is refused");
	}
	{
		char *first = strndup((char *)m.data, s[1] - 1);

		is_rc(parse_edited(first ? first : "", "{\"audience\"", "{\"kind\":\"url\",\"audience\""),
		      HLX_EINVAL, "a disclosure with a kind is refused");
		free(first);
	}
	/* bad records are not appended */
	bad = urlrec(T0 + 92, "peer-b", "hotline-b", CASE_ID, "urls/" CASE_HEX "x");
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_EINVAL, "a bad path refused");
	bad = urlrec(T0 + 92, "peer-b", "hotline-b", CASE_ID, "a/" AUD "x/urls/" CASE_HEX);
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_EINVAL, "a bad audience id refused");
	bad = urlrec(T0 + 92, "peer-b", "-bad", CASE_ID, "urls/" CASE_HEX);
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_EINVAL, "a bad org refused");
	bad = urlrec(T0 + 92, "peer-b", "hotline-b", "url-sha256:00", "urls/" CASE_HEX);
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_EINVAL, "a short case id refused");
	bad.kind = 7;
	is_rc(hlx_audit_append(home, sign2, &bad, 1), HLX_EINVAL, "an unknown kind refused");
	is_rc(hlx_audit_append_url(home, sign2, T0 + 1, "peer-b", "hotline-b", CASE_ID,
				   "urls/" CASE_HEX), HLX_EINVAL,
	      "a url record going back in time refused");
	is_rc(read_log(&g), HLX_OK, "refused appends left the log intact");
	ok(g.n == n + 3, "still %zu records", n + 3);

	/* every single-byte change of the url line fails verification */
	hlx_buf_reset(&f);
	hlx_buf_put(&f, m.data, m.len);
	/* as test_every_byte: what the parser refuses is checked in memory
	 * (and through the reader every 61st time), the rest by the reader */
	for (size_t i = s[n]; i < s[n + 1]; i++) {
		for (unsigned v = 0; v < 256; v++) {
			if (v == m.data[i])
				continue;
			f.data[i] = (uint8_t)v;
			tried++;
			if (m.data[i] != '\n' && v != '\n' &&
			    hlx_audit_parse((char *)f.data + s[n], last, &l) != HLX_OK &&
			    tried % 61) {
				f.data[i] = m.data[i];
				continue;
			}
			write_raw(f.data, f.len);
			if (read_log(&g) == HLX_OK)
				passed++;
		}
		f.data[i] = m.data[i];
	}
	ok(passed == 0, "all %lu single-byte changes of the url line fail verification",
	   tried);
	write_raw(b.data, b.len);
	free(line);
	hlx_buf_free(&b);
	hlx_buf_free(&m);
	hlx_buf_free(&f);
}

/* The command, on a real node home. */
static int run_audit(const char *h, const char *out, const char *err,
		     char **argv, int argc)
{
	struct hlx_cli cli = { .home = h, .no_passphrase = 1, .now = T0 };
	int o = dup(1), e = dup(2), fo, fe, ret;

	fflush(stdout);
	fflush(stderr);
	fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	ret = cli_run(&cli, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o); close(e); close(fo); close(fe);
	return ret;
}

static size_t count_lines(const char *path)
{
	struct hlx_buf b = HLX_BUF_INIT;
	size_t n = 0;

	if (hlx_file_read(path, 1 << 20, &b) == HLX_OK)
		n = nlines(&b);
	hlx_buf_free(&b);
	return n;
}

static int file_has(const char *path, const char *s)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int r = hlx_file_read(path, 1 << 20, &b) == HLX_OK && b.len &&
		strstr((char *)b.data, s) != NULL;

	hlx_buf_free(&b);
	return r;
}

static void test_command(void)
{
	char h[PATH_MAX], out[PATH_MAX + 8], err[PATH_MAX + 8], lp[PATH_MAX + 16];
	struct hlx_home *hh = NULL;
	struct hlx_seckey *k = NULL;
	struct hlx_audit_rec r[4];
	struct hlx_buf b = HLX_BUF_INIT;
	int ret;

	snprintf(h, sizeof(h), "%s/node", home);
	snprintf(out, sizeof(out), "%s/out", home);
	snprintf(err, sizeof(err), "%s/err", home);
	snprintf(lp, sizeof(lp), "%s/audit.log", h);
	is_rc(hlx_home_create(h, "hotline-a", 1, NULL, NULL, T0, 365), HLX_OK,
	      "create a node home");
	is_rc(hlx_home_open(h, &hh), HLX_OK, "open it");
	is_rc(hh ? hlx_home_signing_key(hh, NULL, NULL, T0, &k) : -1, HLX_OK,
	      "load its signing key");
	{
		char *a[] = { "audit", NULL };

		ret = run_audit(h, out, err, a, 1);
		ok(ret == 0 && count_lines(out) == 0, "no log: nothing printed, exit 0");
	}
	r[0] = rec(T0 + 100, "peer-b", "uk-a", 1, 2, 10);
	r[1] = rec(T0 + 100, "company-c", "uk-a", 1, 2, 4);
	r[2] = rec(T0 + 2 * DAY, "peer-b", "uk-a", 3, 3, 11);
	r[3] = rec(T0 + 2 * DAY, "company-c", "status", 1, 1, 2);
	is_rc(k ? hlx_audit_append(h, k, r, 4) : -1, HLX_OK, "append four records");
	{
		char *a[] = { "audit", NULL };

		ret = run_audit(h, out, err, a, 1);
		ok(ret == 0 && count_lines(out) == 5, "table: a header and 4 rows");
		ok(file_has(out, "company-c") && file_has(out, "1..2"),
		   "rows show peer and version range");
	}
	{
		char *a[] = { "audit", "--peer", "peer-b", "--json", NULL };

		ret = run_audit(h, out, err, a, 4);
		ok(ret == 0 && count_lines(out) == 2, "--peer peer-b: 2 JSON lines");
		ok(file_has(out, "{\"audience\":\"0123456789abcdef0123456789abcdef\",\"entries\":10,\"from\":1,\"key\":\"SHA256:") &&
		   !file_has(out, "company-c"), "JSON lines of that peer only");
	}
	{
		char *a[] = { "audit", "--since", "2027-01-16T00:00:00Z", "--json", NULL };

		ret = run_audit(h, out, err, a, 4);
		ok(ret == 0 && count_lines(out) == 2 && file_has(out, "\"seq\":3"),
		   "--since: the records from that time on");
	}
	{
		char *a[] = { "audit", "--since", "2027-01-16T00:00:00Z", "--peer",
			      "company-c", NULL };

		ret = run_audit(h, out, err, a, 5);
		ok(ret == 0 && count_lines(out) == 2 && file_has(out, "status"),
		   "--since and --peer together");
	}
	{
		char *a[] = { "audit", "--since", "yesterday", NULL };

		ret = run_audit(h, out, err, a, 3);
		ok(ret == HLX_EXIT_USAGE, "a bad --since is a usage error");
	}
	{
		char *a[] = { "audit", "extra", NULL };

		ok(run_audit(h, out, err, a, 2) == HLX_EXIT_USAGE, "an operand is a usage error");
	}
	/* a url record: shown as a row of its own and in JSON */
	is_rc(k ? hlx_audit_append_url(h, k, T0 + 3 * DAY, "peer-b", "hotline-b",
				       CASE_ID, "urls/" CASE_HEX) : -1, HLX_OK,
	      "append a url record");
	{
		char *a[] = { "audit", "--peer", "peer-b", NULL };

		ret = run_audit(h, out, err, a, 3);
		ok(ret == 0 && count_lines(out) == 4 &&
		   file_has(out, "raw URL of " CASE_ID " to hotline-b at urls/" CASE_HEX),
		   "the table shows the url record");
	}
	{
		char *a[] = { "audit", "--since", "2027-01-18T00:00:00Z", "--json", NULL };

		ret = run_audit(h, out, err, a, 4);
		ok(ret == 0 && count_lines(out) == 1 &&
		   file_has(out, "{\"case\":\"" CASE_ID "\",\"key\":\"SHA256:") &&
		   file_has(out, "\"kind\":\"url\",\"org\":\"hotline-b\",\"path\":\"urls/"
			    CASE_HEX "\",\"peer\":\"peer-b\",\"seq\":5,"),
		   "its JSON line");
	}
	/* break line 3: nothing on stdout, the error on stderr, exit 1 */
	if (hlx_file_read(lp, 1 << 20, &b) == HLX_OK) {
		size_t s[5];
		char want[PATH_MAX + 64];

		line_starts(&b, s, 5);
		b.data[s[2] + 20] ^= 1;
		{
			int fd = open(lp, O_WRONLY | O_TRUNC);

			if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
				abort();
			close(fd);
		}
		{
			char *a[] = { "audit", NULL };

			ret = run_audit(h, out, err, a, 1);
		}
		ok(ret == HLX_EXIT_FAILED, "a broken log exits 1 (%d)", ret);
		ok(count_lines(out) == 0, "and prints nothing on stdout");
		snprintf(want, sizeof(want), "hlx: audit log '%s' line 3: ", lp);
		ok(file_has(err, want), "stderr: %s...", want);
		b.data[s[2] + 20] ^= 1;
		b.data[10] = '!';
		{
			int fd = open(lp, O_WRONLY | O_TRUNC);

			if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
				abort();
			close(fd);
		}
		{
			char *a[] = { "audit", NULL };

			ret = run_audit(h, out, err, a, 1);
		}
		ok(ret == HLX_EXIT_INVALID && count_lines(out) == 0,
		   "a malformed line exits 3, nothing printed");
	} else {
		ok(0, "read the node's audit log");
	}
	hlx_buf_free(&b);
	hlx_seckey_free(k);
	hlx_home_free(hh);
}

int main(void)
{
	char tmpl[] = "/tmp/hlx-test-audit-XXXXXX";

	if (sodium_init() < 0 || !mkdtemp(tmpl))
		return 1;
	snprintf(home, sizeof(home), "%s", tmpl);
	snprintf(logp, sizeof(logp), "%s/audit.log", home);
	root = key(NULL);
	sign1 = key(&psign1);
	sign2 = key(&psign2);
	stranger = key(NULL);
	if (hlx_trust_create("hotline-a", root, T0, &chain) ||
	    hlx_trust_delegate(chain, root, &psign1, T0, T0 + 100 * DAY, T0) ||
	    hlx_trust_delegate(chain, root, &psign2, T0, T0 + 200 * DAY, T0))
		return 1;

	test_basic();
	test_format();
	test_invalid_recs();
	test_every_byte();
	test_lines();
	test_signers();
	test_torn();
	test_perms();
	test_url();
	test_command();

	hlx_trust_free(chain);
	hlx_seckey_free(root);
	hlx_seckey_free(sign1);
	hlx_seckey_free(sign2);
	hlx_seckey_free(stranger);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
