/* SPDX-License-Identifier: MIT */
/* node/config.c: the settings file's strict parser, set and unset. */
#include "node/config.h"
#include "tap.h"

static int parses(const char *text, struct hlx_config *c)
{
	return hlx_config_parse(text, strlen(text), c);
}

/* text is refused with a detail holding want, and c is left as it was */
static void refused(const char *text, const char *want)
{
	struct hlx_config c, before;

	hlx_config_init(&c);
	c.poll_interval = 42;
	before = c;
	ok(parses(text, &c) == HLX_EINVAL && strstr(hlx_err_detail(), want) &&
	   memcmp(&c, &before, sizeof(c)) == 0,
	   "refused: %s (%s)", want, hlx_err_detail());
}

int main(void)
{
	struct hlx_config c;
	char v[PATH_MAX];
	unsigned k;

	hlx_config_init(&c);
	ok(c.set == 0 && c.poll_interval == 60 && c.expires_days == 7 &&
	   !c.publish_dir[0], "defaults: nothing set, 60 s, 7 days");
	ok(hlx_config_publish_dir(&c, "/h", v) == 0 && !strcmp(v, "/h/publish"),
	   "the default publish directory is HOME/publish");
	ok(parses("", &c) == 0 && c.set == 0, "an empty file is every default");
	ok(parses("# c\n\n publish-dir = /srv/a b \npoll-interval=5\r\n"
		  "\texpires-days\t=\t366", &c) == 0 &&
	   c.set == 7 && !strcmp(c.publish_dir, "/srv/a b") &&
	   c.poll_interval == 5 && c.expires_days == 366,
	   "comments, blanks, CRLF, no final newline, a blank inside a path");
	ok(hlx_config_get(&c, "/h", HLX_CONF_PUBLISH_DIR, v) == 0 &&
	   !strcmp(v, "/srv/a b"), "get publish-dir");
	ok(hlx_config_get(&c, "/h", HLX_CONF_POLL_INTERVAL, v) == 0 &&
	   !strcmp(v, "5"), "get poll-interval");
	hlx_config_unset(&c, HLX_CONF_POLL_INTERVAL);
	ok(c.set == 5 && c.poll_interval == 60, "unset: back to the default");

	refused("polling = 3\n", "line 1: unknown key 'polling'");
	refused("# x\npoll-interval = 5\npoll-interval = 5\n",
		"line 3: key 'poll-interval' given twice");
	refused("poll-interval = 0", "line 1: poll-interval: expected a whole number 1..86400, got '0'");
	refused("poll-interval = 86401", "poll-interval: expected");
	refused("poll-interval = 4294967297", "poll-interval: expected");
	refused("poll-interval = 99999999999", "poll-interval: expected");
	refused("poll-interval = +5", "poll-interval: expected");
	refused("poll-interval = 5 s", "poll-interval: expected");
	refused("poll-interval =", "poll-interval: expected");
	refused("expires-days = 367", "expires-days: expected a whole number 1..366");
	refused("publish-dir = rel", "publish-dir: expected an absolute path, got 'rel'");
	refused("publish-dir = /a\x1b[2J", "publish-dir: '/a\\x1b[2J' holds a control character");
	refused("poll-interval 5", "line 1: expected KEY = VALUE, got 'poll-interval 5'");
	refused("= 5", "line 1: unknown key ''");
	refused("Poll-Interval = 5", "unknown key 'Poll-Interval'");
	{
		static const char nul[] = "poll-interval = 5\0\n";
		struct hlx_config d;

		ok(hlx_config_parse(nul, sizeof(nul) - 1, &d) == HLX_EINVAL,
		   "a NUL byte is refused");
	}
	ok(hlx_config_lookup("expires-days", &k) == 0 && k == HLX_CONF_EXPIRES_DAYS,
	   "lookup by name");
	hlx_config_init(&c);
	ok(hlx_config_set(&c, HLX_CONF_POLL_INTERVAL, "07") == 0 &&
	   c.poll_interval == 7, "set: leading zeros are a number");
	ok(hlx_config_set(&c, HLX_CONF_PUBLISH_DIR, "/a ") == HLX_EINVAL &&
	   hlx_config_set(&c, HLX_CONF_PUBLISH_DIR, " /a") == HLX_EINVAL &&
	   !(c.set & (1u << HLX_CONF_PUBLISH_DIR)),
	   "set: a publish-dir with a blank at either end (the file would lose it)");
	ok(hlx_config_set(&c, HLX_CONF_POLL_INTERVAL, "x") == HLX_EINVAL &&
	   c.poll_interval == 7 && c.set == 1u << HLX_CONF_POLL_INTERVAL,
	   "a refused set changes nothing");
	return done_testing();
}
