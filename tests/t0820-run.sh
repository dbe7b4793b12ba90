#!/bin/sh
# SPDX-License-Identifier: MIT
# hlx run as a service (issue 12 item 2): one run a home (a second is
# refused naming the first's pid; the lock dies with its process); exit 5
# at start when the signing key's passphrase cannot be had or is wrong
# (it used to retry forever); one log format for every line, "TIME ORG:
# EVENT" with a UTC time, or "<PRIO>ORG: EVENT" when standard error is the
# journal (JOURNAL_STREAM names it); SIGHUP re-reads the settings.
. "$(dirname "$0")/lib.sh"

SEED=${HLX_SEED:-820}
echo "# seed $SEED"
hlx --home a init --org acme --no-passphrase 2>/dev/null
hlx --home a list create l1 2>/dev/null
hlx --home a add l1 "md5:$(rand_hex 16)" --category csam-a 2>/dev/null

# wait_log FILE PATTERN: until FILE has a line matching PATTERN (10 s)
wait_log() {
	i=0
	while [ $i -lt 100 ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# stop PID: SIGTERM, and its exit status
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# ---- one run a home ------------------------------------------------------------
hlx --home a config set poll-interval 1 2>/dev/null
"$HLX" --home a run 2>run1.log &
pid1=$!
test_ok "run starts" wait_log run1.log "acme: running node 'a' \\(pid $pid1\\)"
test_ok "run.pid holds its pid" test "$(cat a/run.pid)" = "$pid1"
test_fails_with "a second run on the home is refused, naming the pid" 4 \
	"acme: error: cannot run the node: hlx run is already running on 'a' \\(pid $pid1\\)" \
	hlx --home a run --interval 1
test_ok "the first runs on" kill -0 "$pid1"
test_ok "it published at its first round" wait_log run1.log \
	"acme: published 1 list to 'a/publish'"

# ---- SIGHUP re-reads the settings ------------------------------------------------
test_ok "its settings at start: poll-interval 1 s" \
	grep -Eq "acme: settings: publish-dir 'a/publish', poll-interval 1 s, expires-days 7$" run1.log
hlx --home a config set poll-interval 2 2>/dev/null
hlx --home a config set expires-days 3 2>/dev/null
sleep 1.2
test_ok "a changed file is not read without SIGHUP" \
	sh -c "! grep -q 'poll-interval 2' run1.log"
kill -HUP "$pid1"
test_ok "after SIGHUP the log says the new settings" wait_log run1.log \
	"acme: SIGHUP: settings re-read: publish-dir 'a/publish', poll-interval 2 s, expires-days 3$"
printf 'poll-interval = 0\n' >bad.conf
cp a/hlx.conf good.conf
cp bad.conf a/hlx.conf
kill -HUP "$pid1"
test_ok "a bad file at SIGHUP is an error line" wait_log run1.log \
	"acme: error: SIGHUP: cannot re-read the settings \\(keeping those in use\\): settings 'a/hlx.conf': line 1: poll-interval: expected"
test_ok "and run goes on" kill -0 "$pid1"
cp good.conf a/hlx.conf
stop "$pid1"
test_ok "SIGTERM stops it with exit 0" test $? -eq 0
test_ok "saying so" grep -Eq "acme: stopping on signal$" run1.log
test_ok "every line of the log is 'TIME acme: EVENT'" \
	sh -c "! grep -Ev '^$TS acme: ' run1.log"
test_ok "the time is UTC, within a minute of now" sh -c "
	t=\$(tail -n 1 run1.log | cut -d' ' -f1)
	d=\$(( \$(date -u +%s) - \$(date -u -d \"\$t\" +%s) ))
	[ \$d -ge 0 ] && [ \$d -lt 60 ]"
test_ok "the log has no 'hlx:' line of the other format" \
	sh -c "! grep -q '^hlx:' run1.log"

# the lock dies with its process: after SIGKILL a run starts
"$HLX" --home a run --interval 1 2>run2.log &
pid2=$!
wait_log run2.log "running node"
kill -KILL "$pid2"
wait "$pid2" 2>/dev/null
test_ok "the killed run left run.pid with its pid" test "$(cat a/run.pid)" = "$pid2"
"$HLX" --home a run --interval 1 2>run3.log &
pid3=$!
test_ok "a new run starts after it was killed" wait_log run3.log \
	"acme: running node 'a' \\(pid $pid3\\)"
stop "$pid3"

# ---- the journal ------------------------------------------------------------------------
: >journal.log
js=$(stat -c '%d:%i' journal.log)
JOURNAL_STREAM=$js "$HLX" --home a run --interval 1 2>>journal.log &
pid4=$!
test_ok "with JOURNAL_STREAM naming stderr: '<6>acme: EVENT', no time" \
	wait_log journal.log "^<6>acme: running node 'a' \\(pid $pid4\\)$"
JOURNAL_STREAM=$js "$HLX" --home a run --interval 1 2>>journal.log
test_ok "an error is '<3>acme: error: EVENT'" grep -Eq \
	"^<3>acme: error: cannot run the node: hlx run is already running on 'a' \\(pid $pid4\\)$" \
	journal.log
stop "$pid4"
test_ok "every line of it is '<N>acme: ', none has a time" sh -c \
	"! grep -Ev '^<[36]>acme: ' journal.log && ! grep -Eq '$TS' journal.log"
: >other.log
JOURNAL_STREAM=$js "$HLX" --home a run --interval 1 2>other.log &
pid5=$!
test_ok "JOURNAL_STREAM naming another file: the time is kept" \
	wait_log other.log "^$TS acme: running node"
stop "$pid5"

# ---- the passphrase, at start ------------------------------------------------------
umask 077
echo "correct horse" >pass
echo "wrong horse" >wrong
umask 022
hlx --home b --passphrase-file pass init --org bcorp 2>/dev/null
hlx --home b list create l1 2>/dev/null
hlx --home b --passphrase-file pass add l1 "md5:$(rand_hex 16)" --category csam-a 2>/dev/null
# no terminal: setsid leaves the controlling terminal behind
nopass() {
	timeout 30 setsid -w "$HLX" --home b "$@" run --interval 1
}
test_fails_with "no passphrase and no terminal: exit 5 at start" 5 \
	"bcorp: error: cannot run the node: the signing key of 'bcorp': a passphrase is needed and there is no terminal" \
	nopass
test_fails_with "a wrong passphrase: exit 5 at start" 5 \
	"bcorp: error: cannot run the node: key file .*wrong passphrase" \
	nopass --passphrase-file wrong
"$HLX" --home b --passphrase-file pass run --interval 1 2>run-b.log &
pid6=$!
test_ok "with the passphrase it runs and publishes" wait_log run-b.log \
	"bcorp: published 1 list to 'b/publish'"
stop "$pid6"

# ---- a change is published at once, and an idle run is idle -------------------
# With an interval of a minute, a version added while run sleeps is in the
# feed within seconds: run notices another command's change and starts
# the next round at once (before, it waited for the interval).
"$HLX" --home a run --interval 60 --to feed 2>run7.log &
pid7=$!
test_ok "(run publishes at start)" wait_log run7.log "acme: published 1 list to 'feed'"
sleep 1
# it watches the home for changes (inotify) rather than only looking
# every 25 ms: a change wakes it at once
test_ok "run watches the node home for changes (an inotify descriptor)" \
	sh -c "ls -l /proc/$pid7/fd | grep -q 'anon_inode:inotify'"
ver() { sed -n 's/.*\\"version\\":\([0-9]*\).*/\1/p' feed/lists/l1/head; }
v0=$(ver)
test_ok "(a version added)" hlx --home a add l1 "md5:$(rand_hex 16)"
i=0
while [ $i -lt 150 ] && [ "$(ver)" = "$v0" ]; do sleep 0.1; i=$((i + 1)); done
test_ok "a version added while run sleeps is published within 15 s, not 60" \
	test "$(ver)" = $((v0 + 1))
# its own rounds do not wake it: over 4 s, next to no CPU time
cpu() { awk '{ print $14 + $15 }' /proc/$pid7/stat; }
c0=$(cpu)
sleep 4
c1=$(cpu)
echo "# idle run: $((c1 - c0)) clock ticks of CPU in 4 s"
test_ok "an idle run does not spin (under 1 s of CPU in 4 s)" \
	test $((c1 - c0)) -lt "$(getconf CLK_TCK)"
stop "$pid7"

test_done
