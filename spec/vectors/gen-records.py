# SPDX-License-Identifier: MIT
# Regenerates spec/vectors/{hashes,urls,records}.txt (fixed seed):
#   python3 spec/vectors/gen-records.py spec/vectors
# Expected URL outputs are written by hand; SHA-256 and times come from
# Python, independently of the C code under test.
import random, hashlib, calendar, json
R = random.Random(20240611)

def esc(b):
    if isinstance(b, str): b = b.encode('utf-8')
    o = []
    for c in b:
        if c == 0x5c: o.append('\\\\')
        elif c == 9: o.append('\\t')
        elif c == 10: o.append('\\n')
        elif c < 0x20 or c >= 0x7f: o.append('\\x%02x' % c)
        else: o.append(chr(c))
    return ''.join(o)

HEADER = """# {title}
#
# Format: one vector per line, fields separated by a single TAB.  Lines that
# start with '#' and empty lines are ignored.  Inside a field, backslash
# escapes stand for bytes that cannot appear literally: \\t (TAB), \\n (LF),
# \\\\ (backslash), \\xHH (the byte with hex value HH, lowercase or uppercase).
# No other escape exists.  All hashes are synthetic random data.
#
"""

def rhex(n): return bytes(R.getrandbits(8) for _ in range(n)).hex()

TYPES = [('md5',16),('sha1',20),('sha256',32),('pdq',32),('photodna',144),('tmk',1024),('url-sha256',32)]

def hashes():
    L = [HEADER.format(title="hlx hash text forms (spec/records.md, section 1)") + """# ok<TAB>input<TAB>canonical
#     hlx_hash_parse(input) succeeds and hlx_hash_format gives canonical.
#     The canonical parser accepts input if and only if input == canonical.
# bad<TAB>input<TAB>reason
#     Both parsers reject input.  reason is for people only.
# lt<TAB>a<TAB>b
#     Both are canonical and a sorts strictly before b (hlx_hash_cmp).
"""]
    def ok(i, c): L.append('ok\t%s\t%s' % (esc(i), esc(c)))
    def bad(i, why): L.append('bad\t%s\t%s' % (esc(i), why))
    canon = {}
    L.append('# valid hashes of every type, canonical and in other cases')
    for t, n in TYPES:
        h = rhex(n); c = '%s:%s' % (t, h); canon[t] = c
        ok(c, c)
        ok('%s:%s' % (t, h.upper()), c)
        ok('%s:%s' % (t.upper(), h), c)
        mixed = ''.join(ch.upper() if i % 2 else ch for i, ch in enumerate(h))
        ok('%s:%s' % (t.capitalize(), mixed), c)
    for frames in (1, 2, 3, 16, 31, 32):
        h = rhex(32 * frames); c = 'vpdq:' + h
        ok(c, c); ok('VPDQ:' + h.upper(), c)
        if frames == 1: canon['vpdq'] = c
    ok('md5:' + '0' * 32, 'md5:' + '0' * 32)
    ok('sha1:' + 'f' * 40, 'sha1:' + 'f' * 40)
    ok('pdq:' + 'F' * 64, 'pdq:' + 'f' * 64)
    L.append('# wrong lengths: one byte short and long, one digit short and long, empty')
    for t, n in TYPES + [('vpdq', 32)]:
        h = rhex(n + 1)
        bad('%s:%s' % (t, h[:2 * (n - 1)]), 'one byte short')
        bad('%s:%s' % (t, h), 'one byte long')
        bad('%s:%s' % (t, h[:2 * n - 1]), 'odd number of digits')
        bad('%s:%s' % (t, h[:2 * n + 1]), 'odd number of digits')
        bad('%s:' % t, 'no hex digits')
        bad(t, 'no colon')
        bad('%s %s' % (t, h[:2 * n]), 'space instead of colon')
        bad('%s :%s' % (t, h[:2 * n]), 'space before colon')
        bad('%s: %s' % (t, h[:2 * n]), 'space after colon')
        bad(' %s:%s' % (t, h[:2 * n]), 'leading space')
        bad('%s:%s ' % (t, h[:2 * n]), 'trailing space')
        bad('%s:%s\n' % (t, h[:2 * n]), 'trailing newline')
        bad('%s:%s\t' % (t, h[:2 * n]), 'trailing tab')
        bad('%s:%s' % (t, 'g' + h[1:2 * n]), 'bad hex digit g')
        bad('%s:%s' % (t, h[:n] + '\0' + h[n + 1:2 * n]), 'NUL byte inside the hex')
        bad('%s\0:%s' % (t, h[:2 * n]), 'NUL byte inside the type')
    L.append('# vpdq: multiples of 32 bytes, 1 to 32 frames')
    bad('vpdq:' + rhex(33 * 32), '33 frames')
    bad('vpdq:' + rhex(48), '1.5 frames')
    bad('vpdq:' + rhex(63), 'not a multiple of 32 bytes')
    bad('vpdq:' + rhex(1), 'one byte')
    L.append('# other malformed input')
    h = rhex(16)
    bad('', 'empty')
    bad(':', 'no type, no hex')
    bad(':' + h, 'no type')
    bad('md5::' + h, 'two colons')
    bad('md5:0x' + h[2:], '0x prefix')
    bad('0x' + h, 'no type')
    bad('foo:' + h, 'unknown type')
    bad('md4:' + h, 'unknown type')
    bad('sha-256:' + rhex(32), 'unknown type spelling')
    bad('sha256 :' + rhex(32), 'space')
    bad('url_sha256:' + rhex(32), 'unknown type spelling')
    bad('urlsha256:' + rhex(32), 'unknown type spelling')
    bad('md5:' + h[:10] + '-' + h[11:], 'dash in hex')
    bad('md5:' + h[:10] + ':' + h[11:], 'colon in hex')
    bad('md5:' + h[:10] + '\xff' + h[11:], 'non-ASCII byte')
    bad(b'md5:' + h[:10].encode() + b'\xc3\xa9' + h[12:].encode(), 'UTF-8 letter')
    bad(b'\xef\xbb\xbfmd5:' + h.encode(), 'byte order mark')
    bad('m\u0064' + '5:' + h + 'Z', 'trailing letter')
    bad('md5:' + 'a' * 3000, 'oversized')
    bad('tmk:' + rhex(1024) + '00', 'tmk one byte long')
    L.append('# order: type name, then bytes, then length')
    order = sorted(canon)
    for a, b in zip(order, order[1:]):
        L.append('lt\t%s\t%s' % (canon[a], canon[b]))
    L.append('lt\tmd5:%s\tmd5:%s' % ('00' * 15 + '01', '00' * 15 + '02'))
    L.append('lt\tmd5:%s\tmd5:%s' % ('0f' + 'ff' * 15, '10' + '00' * 15))
    v = rhex(32)
    L.append('lt\tvpdq:%s\tvpdq:%s' % (v, v + '00' * 32))
    L.append('lt\tvpdq:%s\tvpdq:%s' % ('00' * 64, 'ff' * 32))
    L.append('lt\tsha1:%s\tsha256:%s' % ('ff' * 20, '00' * 32))
    return '\n'.join(L) + '\n'

URL_OK = [
    ('http://example.com', 'http://example.com/'),
    ('HTTP://EXAMPLE.COM/', 'http://example.com/'),
    ('HtTpS://Example.COM', 'https://example.com/'),
    ('https://Example.COM:443/a', 'https://example.com/a'),
    ('https://example.com:443', 'https://example.com/'),
    ('http://example.com:80/', 'http://example.com/'),
    ('http://example.com:8080/', 'http://example.com:8080/'),
    ('https://example.com:80/', 'https://example.com:80/'),
    ('http://example.com:443/', 'http://example.com:443/'),
    ('http://example.com:/', 'http://example.com/'),
    ('http://example.com:0080/x', 'http://example.com/x'),
    ('http://example.com:08080/x', 'http://example.com:8080/x'),
    ('http://example.com:65535/', 'http://example.com:65535/'),
    ('http://example.com:1', 'http://example.com:1/'),
    ('http://user:pass@example.com/', 'http://example.com/'),
    ('http://user@example.com:8000/a?b#c', 'http://example.com:8000/a?b'),
    ('http://us%20er:p%40ss@example.com/', 'http://example.com/'),
    ("http://u!$&'()*+,;=:-._~@example.com/", 'http://example.com/'),
    ('http://@example.com/', 'http://example.com/'),
    ('http://example.com/a/./b/../c', 'http://example.com/a/c'),
    ('http://example.com/../a', 'http://example.com/a'),
    ('http://example.com/a/..', 'http://example.com/'),
    ('http://example.com/a/.', 'http://example.com/a/'),
    ('http://example.com/.', 'http://example.com/'),
    ('http://example.com/..', 'http://example.com/'),
    ('http://example.com/./', 'http://example.com/'),
    ('http://example.com/a//../b', 'http://example.com/a/b'),
    ('http://example.com/a//b', 'http://example.com/a//b'),
    ('http://example.com//', 'http://example.com//'),
    ('http://example.com/a/b/c/./../../g', 'http://example.com/a/g'),
    ('http://example.com/mid/content=5/../6', 'http://example.com/mid/6'),
    ('http://example.com/.../', 'http://example.com/.../'),
    ('http://example.com/a/..b/.c/c.', 'http://example.com/a/..b/.c/c.'),
    ('http://example.com/a/b/../../../../c/', 'http://example.com/c/'),
    ('http://example.com/%7euser/%41%42%2f', 'http://example.com/~user/AB%2F'),
    ('http://example.com/a%2e%2E/b', 'http://example.com/a../b'),
    ('http://example.com/%2e%2E/x', 'http://example.com/x'),
    ('http://example.com/a/%2e/b', 'http://example.com/a/b'),
    ('http://example.com/%2F%2f', 'http://example.com/%2F%2F'),
    ('http://example.com/~%7E%7e', 'http://example.com/~~~'),
    ('http://example.com/%25', 'http://example.com/%25'),
    ('http://example.com/%2525', 'http://example.com/%2525'),
    ('http://example.com/%30%39%61%5a%2d%5f%2e', 'http://example.com/09aZ-_.'),
    ('http://example.com/%c3%a9', 'http://example.com/%C3%A9'),
    (b'http://example.com/\xc3\xa9t\xc3\xa9', 'http://example.com/%C3%A9t%C3%A9'),
    (b'http://example.com/?q=\xff', 'http://example.com/?q=%FF'),
    ('http://example.com/<script>', 'http://example.com/%3Cscript%3E'),
    ('http://example.com/a|b{c}^`\\', 'http://example.com/a%7Cb%7Bc%7D%5E%60%5C'),
    ('http://example.com/"x"', 'http://example.com/%22x%22'),
    ('http://example.com/[x]', 'http://example.com/%5Bx%5D'),
    ("http://example.com/a;b=c/d:e@f!$&'()*+,=", "http://example.com/a;b=c/d:e@f!$&'()*+,="),
    ('http://example.com/?q=a%20b&r=%7e', 'http://example.com/?q=a%20b&r=~'),
    ('http://example.com/?q=<x>', 'http://example.com/?q=%3Cx%3E'),
    ('http://example.com/a?%41%2a', 'http://example.com/a?A%2A'),
    ('http://example.com/a?b?c/../d', 'http://example.com/a?b?c/../d'),
    ('http://example.com/a?b#c?d', 'http://example.com/a?b'),
    ('http://example.com/a?', 'http://example.com/a?'),
    ('http://example.com?', 'http://example.com/?'),
    ('http://example.com?x=1', 'http://example.com/?x=1'),
    ('http://example.com/path?#frag', 'http://example.com/path?'),
    ('http://example.com#frag', 'http://example.com/'),
    ('http://example.com/#%zz', 'http://example.com/'),
    (b'http://example.com/#\xff', 'http://example.com/'),
    ('http://example.com/a#', 'http://example.com/a'),
    ('http://example.com./a', 'http://example.com/a'),
    ('http://EXAMPLE.com.:80', 'http://example.com/'),
    ('http://ex_ample.com/', 'http://ex_ample.com/'),
    ('http://-example-.com/', 'http://-example-.com/'),
    ('http://localhost', 'http://localhost/'),
    ('http://192.0.2.1/', 'http://192.0.2.1/'),
    ('http://192.0.2.1:80/a', 'http://192.0.2.1/a'),
    ('https://xn--bcher-kva.example/', 'https://xn--bcher-kva.example/'),
    ('http://[2001:DB8::1]/', 'http://[2001:db8::1]/'),
    ('http://[2001:0db8:0000:0000:0000:0000:0000:0001]:8080/x', 'http://[2001:db8::1]:8080/x'),
    ('http://[2001:db8::1]:80', 'http://[2001:db8::1]/'),
    ('http://[::ffff:192.0.2.1]/', 'http://[::ffff:c000:201]/'),
    ('http://[2001:db8:0:0:1:0:0:1]/', 'http://[2001:db8::1:0:0:1]/'),
    ('http://[2001:db8:0:1:1:1:1:1]/', 'http://[2001:db8:0:1:1:1:1:1]/'),
    ('http://[2001:0:0:1:0:0:0:1]/', 'http://[2001:0:0:1::1]/'),
    ('http://[::]/', 'http://[::]/'),
    ('http://[::1]/', 'http://[::1]/'),
    ('http://[1::]/', 'http://[1::]/'),
    ('http://[A:B:C:D:E:F:0:0]/', 'http://[a:b:c:d:e:f::]/'),
    ('http://' + 'a' * 63 + '.example/', 'http://' + 'a' * 63 + '.example/'),
    ('http://' + '.'.join(['a' * 63] * 3) + '.' + 'b' * 61 + '/', 'http://' + '.'.join(['a' * 63] * 3) + '.' + 'b' * 61 + '/'),
    ('http://example.com/' + 'x' * (8192 - 19), 'http://example.com/' + 'x' * (8192 - 19)),
    ('http://example.com/' + '%41' * 2724, 'http://example.com/' + 'A' * 2724),
    ('http://example.com/' + '^' * 2724, 'http://example.com/' + '%5E' * 2724),
]

URL_BAD = [
    ('', 'empty'),
    ('ftp://example.com/', 'scheme not http or https'),
    ('file:///etc/passwd', 'scheme not http or https'),
    ('javascript:alert(1)', 'scheme not http or https'),
    ('mailto:someone@example.com', 'scheme not http or https'),
    ('httpx://example.com/', 'scheme not http or https'),
    ('http+s://example.com/', 'scheme not http or https'),
    ('1http://example.com/', 'invalid scheme'),
    ('example.com/path', 'no scheme'),
    ('//example.com/', 'no scheme'),
    (':http://example.com/', 'empty scheme'),
    ('http:example.com', 'no authority'),
    ('http:/example.com', 'no authority'),
    ('http:', 'no authority'),
    ('http://', 'no host'),
    ('http:///path', 'no host'),
    ('http://:80/', 'no host'),
    ('http://user@/', 'no host'),
    ('http://?x', 'no host'),
    ('http://.', 'no host after the trailing dot'),
    ('http://exa mple.com/', 'space'),
    ('http://example.com/a b', 'space'),
    (' http://example.com/', 'leading space'),
    ('http://example.com/ ', 'trailing space'),
    ('http://example.com/\t', 'tab'),
    ('http://example.com/\n', 'newline'),
    ('http://example.com/\r\n', 'carriage return'),
    ('http://example.com/\0', 'NUL byte'),
    ('http://example.com/\x7f', 'DEL byte'),
    ('http://example.com/#a b', 'space in the fragment'),
    ('http://example.com/%', 'lone percent'),
    ('http://example.com/%4', 'short percent escape'),
    ('http://example.com/%zz', 'bad percent escape'),
    ('http://example.com/%4g', 'bad percent escape'),
    ('http://example.com/?%g0', 'bad percent escape in query'),
    ('http://example.com/?a=%', 'lone percent in query'),
    ('http://example.com:65536/', 'port out of range'),
    ('http://example.com:0/', 'port zero'),
    ('http://example.com:00000/', 'port zero'),
    ('http://example.com:123456/', 'port too long'),
    ('http://example.com:8o/', 'port not a number'),
    ('http://example.com:-1/', 'negative port'),
    ('http://example.com:80:80/', 'two ports'),
    ('http://a@b@example.com/', 'two @'),
    ('http://user[@example.com/', 'invalid userinfo character'),
    ('http://us%zzer@example.com/', 'bad percent escape in userinfo'),
    ('http://ex%41mple.com/', 'percent escape in host'),
    (b'http://exa\xc3\xa9mple.com/', 'non-ASCII host'),
    ('http://exa!mple.com/', 'sub-delim in host'),
    ('http://example.com\\path', 'backslash in host'),
    ('http://example..com/', 'empty label'),
    ('http://.example.com/', 'empty label'),
    ('http://example.com../', 'empty label after removing one trailing dot'),
    ('http://' + 'a' * 64 + '.example/', 'label of 64 characters'),
    ('http://' + '.'.join(['a' * 63] * 3) + '.' + 'b' * 62 + '/', 'host of 254 characters'),
    ('http://[2001:db8::1/', 'no closing bracket'),
    ('http://[2001:db8::1]x/', 'junk after bracket'),
    ('http://[2001:db8::g]/', 'bad IPv6 address'),
    ('http://[fe80::1%25eth0]/', 'zone identifier'),
    ('http://[v1.fe]/', 'IPvFuture'),
    ('http://[1:2:3:4:5:6:7:8:9]/', 'bad IPv6 address'),
    ('http://[1:2:3:4:5:6:7]/', 'bad IPv6 address'),
    ('http://[::1::2]/', 'bad IPv6 address'),
    ('http://[]/', 'empty IPv6 address'),
    ('http://[192.0.2.1]/', 'IPv4 in brackets'),
    ('http://2001:db8::1/', 'IPv6 without brackets'),
    ('http://example.com/' + 'x' * (8192 - 18), 'longer than 8192 bytes'),
    ('http://example.com/' + '^' * 2725, 'normalised form longer than 8192 bytes'),
    ('HTTP://EXAMPLE.COM:80/' + 'x' * (8192 - 21), 'normalised form not longer, but input longer than 8192 bytes'),
]

def urls():
    L = [HEADER.format(title="hlx URL normalisation (spec/records.md, section 2)") + """# ok<TAB>input<TAB>normalised<TAB>url-sha256
#     hlx_url_normalise(input) == normalised, normalising it again changes
#     nothing, and hlx_url_hash(input) == url-sha256 (SHA-256 of the bytes of
#     normalised, in the hash text form).
# bad<TAB>input<TAB>reason
#     hlx_url_normalise(input) fails.  reason is for people only.
"""]
    for i, o in URL_OK:
        L.append('ok\t%s\t%s\turl-sha256:%s' % (esc(i), esc(o), hashlib.sha256(o.encode()).hexdigest()))
    for i, why in URL_BAD:
        L.append('bad\t%s\t%s' % (esc(i), why))
    return '\n'.join(L) + '\n'

def ts(s):
    import time
    return calendar.timegm(time.strptime(s, '%Y-%m-%dT%H:%M:%SZ'))

def records():
    L = [HEADER.format(title="hlx times, entries and status records (spec/records.md, sections 3-6)") + """# time<TAB>text<TAB>seconds
#     hlx_time_parse(text) == seconds and hlx_time_format(seconds) == text.
# time-bad<TAB>text<TAB>reason
#     hlx_time_parse(text) fails.
# entry<TAB>json<TAB>line
# status<TAB>json<TAB>line
#     json is the canonical JSON and line the canonical line of one record:
#     from_json(json) then to_json gives json, then encode gives line;
#     decode(line) then encode gives line, then to_json gives json.
# entry-json<TAB>json<TAB>line
# status-json<TAB>json<TAB>line
#     Accepted, non-canonical JSON: from_json(json) then encode gives line.
# entry-bad-line<TAB>line<TAB>reason
# status-bad-line<TAB>line<TAB>reason
#     decode(line) fails (line includes its final newline, if any).
# entry-bad-json<TAB>json<TAB>reason
# status-bad-json<TAB>json<TAB>reason
#     from_json(json) fails.
"""]
    def add(*f): L.append('\t'.join(esc(x) for x in f))
    L.append('# times')
    for t in ['1970-01-01T00:00:00Z', '1970-01-01T00:00:01Z', '1970-12-31T23:59:59Z',
              '1972-02-29T00:00:00Z', '1999-12-31T23:59:59Z', '2000-01-01T00:00:00Z',
              '2000-02-29T12:34:56Z', '2000-03-01T00:00:00Z', '2004-02-29T23:59:59Z',
              '2023-02-28T23:59:59Z', '2023-03-01T00:00:00Z', '2024-02-29T00:00:00Z',
              '2024-12-31T23:59:59Z', '2038-01-19T03:14:07Z', '2038-01-19T03:14:08Z',
              '2100-02-28T23:59:59Z', '2100-03-01T00:00:00Z', '2106-02-07T06:28:16Z',
              '2400-02-29T00:00:00Z', '9999-12-31T23:59:59Z', '2023-04-30T10:20:30Z',
              '2023-06-30T23:59:59Z', '2023-09-30T00:00:00Z', '2023-11-30T00:00:00Z',
              '2023-01-31T00:00:00Z', '2023-05-31T00:00:00Z', '2023-07-31T00:00:00Z',
              '2023-08-31T00:00:00Z', '2023-10-31T00:00:00Z', '2023-12-31T00:00:00Z']:
        add('time', t, str(ts(t)))
    for t, why in [('1969-12-31T23:59:59Z', 'before 1970'), ('0000-01-01T00:00:00Z', 'year 0'),
                   ('1900-02-29T00:00:00Z', 'before 1970 and not a leap year'),
                   ('2100-02-29T00:00:00Z', '2100 is not a leap year'),
                   ('2023-02-29T00:00:00Z', 'not a leap year'), ('2024-02-30T00:00:00Z', 'February 30'),
                   ('2023-04-31T00:00:00Z', 'April 31'), ('2023-06-31T00:00:00Z', 'June 31'),
                   ('2023-09-31T00:00:00Z', 'September 31'), ('2023-11-31T00:00:00Z', 'November 31'),
                   ('2023-01-32T00:00:00Z', 'day 32'), ('2023-01-00T00:00:00Z', 'day 0'),
                   ('2023-00-10T00:00:00Z', 'month 0'), ('2023-13-01T00:00:00Z', 'month 13'),
                   ('2023-01-01T24:00:00Z', 'hour 24'), ('2023-01-01T23:60:00Z', 'minute 60'),
                   ('2016-12-31T23:59:60Z', 'leap second'), ('2023-01-01T23:59:99Z', 'second 99'),
                   ('2023-01-01t00:00:00Z', 'lowercase t'), ('2023-01-01T00:00:00z', 'lowercase z'),
                   ('2023-01-01 00:00:00Z', 'space separator'), ('2023-01-01T00:00:00', 'no Z'),
                   ('2023-01-01T00:00:00+00:00', 'offset'), ('2023-01-01T00:00:00.5Z', 'fraction'),
                   ('2023-01-01T00:00Z', 'no seconds'), ('2023-01-01', 'date only'),
                   ('2023-1-01T00:00:00Z', 'one-digit month'), ('23-01-01T00:00:00Z', 'two-digit year'),
                   ('10000-01-01T00:00:00Z', 'five-digit year'), ('+2023-01-01T00:00:00Z', 'sign'),
                   ('2023-01-01T00:00:00Z ', 'trailing space'), (' 2023-01-01T00:00:00Z', 'leading space'),
                   ('2023-01-01T00:00:00Z\n', 'trailing newline'), ('2023-01-01T00:0\x000Z', 'NUL byte'),
                   ('2023/01/01T00:00:00Z', 'slashes'), ('2023-01-01T00-00-00Z', 'dashes in time'),
                   ('２023-01-01T00:00:00Z', 'non-ASCII digit'), ('1577836800', 'seconds'),
                   ('', 'empty'), ('-', 'absent marker')]:
        add('time-bad', t, why)

    md5 = 'md5:' + rhex(16); sha1 = 'sha1:' + rhex(20); sha256 = 'sha256:' + rhex(32)
    pdq = 'pdq:' + rhex(32); pdna = 'photodna:' + rhex(144); tmk = 'tmk:' + rhex(1024)
    vpdq = 'vpdq:' + rhex(96); url = 'url-sha256:' + rhex(32)
    T1, T2, T3 = '2021-03-04T05:06:07Z', '2023-11-30T23:59:59Z', '2024-02-29T12:00:00Z'
    def cj(d): return json.dumps(d, sort_keys=True, separators=(',', ':'))
    L.append('# entries')
    E = [
        ({'hash': md5}, md5 + '\t-\t-\t-\t-\n'),
        ({'hash': sha1, 'category': 'a1'}, sha1 + '\ta1\t-\t-\t-\n'),
        ({'hash': sha256, 'first_seen': T1}, sha256 + '\t-\t' + T1 + '\t-\t-\n'),
        ({'hash': pdq, 'confidence': 0}, pdq + '\t-\t-\t0\t-\n'),
        ({'hash': pdq, 'confidence': 100}, pdq + '\t-\t-\t100\t-\n'),
        ({'hash': pdq, 'confidence': 7}, pdq + '\t-\t-\t7\t-\n'),
        ({'hash': pdna, 'tags': ['x']}, pdna + '\t-\t-\t-\tx\n'),
        ({'hash': tmk, 'category': 'b2', 'first_seen': T2, 'confidence': 90, 'tags': ['t1']},
         tmk + '\tb2\t' + T2 + '\t90\tt1\n'),
        ({'hash': vpdq, 'category': 'baseline', 'tags': ['0', '9', 'a', 'a-b', 'a.b', 'a_b', 'ab', 'z']},
         vpdq + '\tbaseline\t-\t-\t0,9,a,a-b,a.b,a_b,ab,z\n'),
        ({'hash': url, 'category': '0' + 'a' * 31, 'first_seen': '1970-01-01T00:00:00Z', 'confidence': 55,
          'tags': ['z' * 32]}, url + '\t0' + 'a' * 31 + '\t1970-01-01T00:00:00Z\t55\t' + 'z' * 32 + '\n'),
        ({'hash': md5, 'category': 'x.y_z-1', 'first_seen': '9999-12-31T23:59:59Z', 'tags': ['a', 'ab']},
         md5 + '\tx.y_z-1\t9999-12-31T23:59:59Z\t-\ta,ab\n'),
    ]
    for d, line in E:
        add('entry', cj(d), line)
    up = md5.split(':')[1].upper()
    add('entry-json', '{ "tags" : ["b", "a"], "hash" : "MD5:%s" }\n' % up, md5 + '\t-\t-\t-\ta,b\n')
    add('entry-json', '{"hash":"%s","tags":[]}' % md5, md5 + '\t-\t-\t-\t-\n')
    add('entry-json', '\t{"confidence":100,"hash":"%s"}  ' % md5, md5 + '\t-\t-\t100\t-\n')
    add('entry-json', '{"hash":"%s","category":"\\u0061"}' % md5, md5 + '\ta\t-\t-\t-\n')
    good = md5 + '\tcat\t' + T1 + '\t50\ta,b\n'
    for line, why in [
        (good[:-1], 'no final newline'), (good[:-1] + '\r\n', 'CRLF'), (good + '\n', 'two newlines'),
        (good[:-1] + '\t\n', 'trailing tab'), (good[:-1] + ' \n', 'trailing space'),
        ('', 'empty'), ('\n', 'empty line'), ('-\t-\t-\t-\t-\n', 'no hash'),
        (md5 + '\n', 'one field'), (md5 + '\t-\t-\t-\n', 'four fields'), (md5 + '\t-\t-\t-\t-\t-\n', 'six fields'),
        (md5 + '\t\t-\t-\t-\n', 'empty category field'), (md5 + '\t-\t\t-\t-\n', 'empty first_seen field'),
        (md5 + '\t-\t-\t\t-\n', 'empty confidence field'), (md5 + '\t-\t-\t-\t\n', 'empty tags field'),
        (md5 + ' -\t-\t-\t-\n', 'space before tab'), (md5 + '\t -\t-\t-\n', 'space after tab'),
        (md5.upper().replace('MD5', 'md5') + '\t-\t-\t-\t-\n', 'uppercase hex'),
        ('MD5:' + md5[4:] + '\t-\t-\t-\t-\n', 'uppercase type'),
        (md5[:-1] + '\t-\t-\t-\t-\n', 'short hash'), (md5 + '0\t-\t-\t-\t-\n', 'odd hash'),
        (md5 + '00\t-\t-\t-\t-\n', 'long hash'), ('foo:' + md5[4:] + '\t-\t-\t-\t-\n', 'unknown type'),
        (md5 + '\tCat\t-\t-\t-\n', 'uppercase category'), (md5 + '\t--\t-\t-\t-\n', 'category --'),
        (md5 + '\t-x\t-\t-\t-\n', 'category starts with -'), (md5 + '\t.x\t-\t-\t-\n', 'category starts with .'),
        (md5 + '\t' + 'a' * 33 + '\t-\t-\t-\n', 'category of 33 characters'),
        (md5 + '\ta b\t-\t-\t-\n', 'space in category'), (md5 + '\ta,b\t-\t-\t-\n', 'comma in category'),
        (md5.encode() + b'\t\xc3\xa9\t-\t-\t-\n', 'non-ASCII category'),
        (md5 + '\t-\t2021-03-04T05:06:07+00:00\t-\t-\n', 'time with offset'),
        (md5 + '\t-\t2021-03-04 05:06:07Z\t-\t-\n', 'time with space'),
        (md5 + '\t-\t2021-02-29T05:06:07Z\t-\t-\n', 'February 29 in a common year'),
        (md5 + '\t-\t1615000000\t-\t-\n', 'time in seconds'),
        (md5 + '\t-\t-\t007\t-\n', 'leading zeros'), (md5 + '\t-\t-\t00\t-\n', 'double zero'),
        (md5 + '\t-\t-\t101\t-\n', 'confidence 101'), (md5 + '\t-\t-\t-1\t-\n', 'negative confidence'),
        (md5 + '\t-\t-\t+5\t-\n', 'plus sign'), (md5 + '\t-\t-\t1.0\t-\n', 'fraction'),
        (md5 + '\t-\t-\t1000\t-\n', 'four digits'), (md5 + '\t-\t-\t0x10\t-\n', 'hex confidence'),
        (md5 + '\t-\t-\t-\tb,a\n', 'tags not sorted'), (md5 + '\t-\t-\t-\ta,a\n', 'duplicate tags'),
        (md5 + '\t-\t-\t-\ta,,b\n', 'empty tag'), (md5 + '\t-\t-\t-\ta,\n', 'trailing comma'),
        (md5 + '\t-\t-\t-\t,a\n', 'leading comma'), (md5 + '\t-\t-\t-\ta, b\n', 'space in tags'),
        (md5 + '\t-\t-\t-\t' + ','.join('t%d' % i for i in range(9)) + '\n', 'nine tags'),
        (md5 + '\t-\t-\t-\tA\n', 'uppercase tag'), (md5 + '\t-\t-\t-\t' + 'a' * 33 + '\n', 'tag of 33 characters'),
        (md5 + '\t-\t-\t-\ta\0\n', 'NUL byte in tags'), (md5 + '\t-\t-\n\t-\t-\n', 'newline inside'),
        (md5 + '\t-\t-\t-\t-\0\n', 'NUL byte after the last field'),
        (md5 + '\t-\t-\t-\t' + 'a' * 3000 + '\n', 'oversized line'),
    ]:
        add('entry-bad-line', line, why)
    for js, why in [
        ('', 'empty'), ('[]', 'array'), ('"x"', 'string'), ('null', 'null'), ('{}', 'no hash'),
        ('{"hash":"%s"} {}' % md5, 'two objects'), ('{"hash":"%s"} x' % md5, 'trailing garbage'),
        ('{"hash":"%s"' % md5, 'truncated'), ("{'hash':'%s'}" % md5, 'single quotes'),
        ('{"hash":"%s","hash":"%s"}' % (md5, md5), 'duplicate key'),
        ('{"hash":"%s","comment":"x"}' % md5, 'unknown key (no free text)'),
        ('{"hash":"%s","Hash":"%s"}' % (md5, md5), 'unknown key Hash'),
        ('{"hash":null}', 'null hash'), ('{"hash":5}', 'number hash'), ('{"hash":"md5:00"}', 'short hash'),
        ('{"hash":" %s"}' % md5, 'space in hash'), ('{"hash":"%s","category":null}' % md5, 'null category'),
        ('{"hash":"%s","category":""}' % md5, 'empty category'), ('{"hash":"%s","category":"A"}' % md5, 'uppercase category'),
        ('{"hash":"%s","category":["a"]}' % md5, 'array category'),
        ('{"hash":"%s","confidence":"90"}' % md5, 'string confidence'),
        ('{"hash":"%s","confidence":90.0}' % md5, 'real confidence'),
        ('{"hash":"%s","confidence":true}' % md5, 'boolean confidence'),
        ('{"hash":"%s","confidence":-1}' % md5, 'negative confidence'),
        ('{"hash":"%s","confidence":101}' % md5, 'confidence 101'),
        ('{"hash":"%s","confidence":99999999999999999999999}' % md5, 'huge confidence'),
        ('{"hash":"%s","first_seen":1577836800}' % md5, 'integer first_seen'),
        ('{"hash":"%s","first_seen":"2020-01-01"}' % md5, 'date-only first_seen'),
        ('{"hash":"%s","first_seen":"2020-01-01T00:00:00.000Z"}' % md5, 'fractional first_seen'),
        ('{"hash":"%s","tags":"a"}' % md5, 'string tags'), ('{"hash":"%s","tags":[1]}' % md5, 'number tag'),
        ('{"hash":"%s","tags":["A"]}' % md5, 'uppercase tag'), ('{"hash":"%s","tags":["a","a"]}' % md5, 'duplicate tag'),
        ('{"hash":"%s","tags":[""]}' % md5, 'empty tag'), ('{"hash":"%s","tags":[["a"]]}' % md5, 'nested array'),
        ('{"hash":"%s","tags":null}' % md5, 'null tags'),
        ('{"hash":"%s","tags":%s}' % (md5, json.dumps(['t%d' % i for i in range(9)])), 'nine tags'),
        ('{"hash":"%s","category":"a\\u0000"}' % md5, 'escaped NUL'),
        (b'{"hash":"' + md5.encode() + b'","category":"\xff"}', 'invalid UTF-8'),
        ('{"hash":"%s"}\0' % md5, 'NUL after the object'),
        ('[' * 5000 + ']' * 5000, 'deep nesting'),
    ]:
        add('entry-bad-json', js, why)

    L.append('# status records')
    S = [
        ({'item': url, 'state': 'reported', 'reported': T1, 'changed': T1}, url + '\t-\treported\t' + T1 + '\t' + T1 + '\n'),
        ({'item': url, 'country': 'DE', 'state': 'notice-sent', 'reported': T1, 'changed': T2},
         url + '\tDE\tnotice-sent\t' + T1 + '\t' + T2 + '\n'),
        ({'item': sha256, 'country': 'NL', 'state': 'removed', 'reported': T1, 'changed': T1},
         sha256 + '\tNL\tremoved\t' + T1 + '\t' + T1 + '\n'),
        ({'item': md5, 'country': 'XK', 'state': 'reappeared', 'reported': T2, 'changed': T3},
         md5 + '\tXK\treappeared\t' + T2 + '\t' + T3 + '\n'),
        ({'item': pdq, 'country': 'ZW', 'state': 'withdrawn', 'reported': '1970-01-01T00:00:00Z', 'changed': '9999-12-31T23:59:59Z'},
         pdq + '\tZW\twithdrawn\t1970-01-01T00:00:00Z\t9999-12-31T23:59:59Z\n'),
        ({'item': vpdq, 'country': 'AD', 'state': 'removed', 'reported': T2, 'changed': T3},
         vpdq + '\tAD\tremoved\t' + T2 + '\t' + T3 + '\n'),
    ]
    for d, line in S:
        add('status', cj(d), line)
    add('status-json', '{"state":"removed", "changed":"%s", "reported":"%s", "item":"URL-SHA256:%s", "country":"GB"}'
        % (T2, T1, url.split(':')[1].upper()), url + '\tGB\tremoved\t' + T1 + '\t' + T2 + '\n')
    sgood = url + '\tDE\tremoved\t' + T1 + '\t' + T2 + '\n'
    for line, why in [
        (sgood[:-1], 'no final newline'), (sgood[:-1] + '\r\n', 'CRLF'), ('', 'empty'),
        (url + '\tDE\tremoved\t' + T1 + '\n', 'four fields'), (sgood[:-1] + '\t-\n', 'six fields'),
        (sgood.replace('\tDE\t', '\tde\t'), 'lowercase country'), (sgood.replace('\tDE\t', '\tUK\t'), 'UK is not ISO 3166-1'),
        (sgood.replace('\tDE\t', '\tXX\t'), 'unassigned code'), (sgood.replace('\tDE\t', '\tDEU\t'), 'alpha-3'),
        (sgood.replace('\tDE\t', '\tD\t'), 'one letter'), (sgood.replace('\tDE\t', '\t\t'), 'empty country field'),
        (sgood.replace('\tDE\t', '\tEU\t'), 'EU is not a country code'),
        (sgood.replace('removed', 'Removed'), 'uppercase state'), (sgood.replace('removed', 'gone'), 'unknown state'),
        (sgood.replace('removed', 'notice_sent'), 'misspelt state'), (sgood.replace('removed', '-'), 'absent state'),
        (url + '\tDE\tremoved\t-\t' + T2 + '\n', 'absent reported'), (url + '\tDE\tremoved\t' + T1 + '\t-\n', 'absent changed'),
        (url + '\tDE\tremoved\t' + T2 + '\t' + T1 + '\n', 'changed before reported'),
        (url + '\tDE\treported\t' + T1 + '\t' + T2 + '\n', 'state reported but changed later'),
        (url.replace('url-sha256', 'URL-SHA256') + '\tDE\tremoved\t' + T1 + '\t' + T2 + '\n', 'uppercase type'),
        ('-\tDE\tremoved\t' + T1 + '\t' + T2 + '\n', 'no item'),
        (url + '\tDE\tremoved\t' + T1 + '\t' + T2 + '\0\n', 'NUL byte'),
    ]:
        add('status-bad-line', line, why)
    for js, why in [
        ('{}', 'empty object'), ('{"item":"%s","state":"removed","reported":"%s"}' % (url, T1), 'changed missing'),
        ('{"item":"%s","state":"removed","changed":"%s"}' % (url, T1), 'reported missing'),
        ('{"item":"%s","reported":"%s","changed":"%s"}' % (url, T1, T1), 'state missing'),
        ('{"country":"DE","state":"removed","reported":"%s","changed":"%s"}' % (T1, T1), 'item missing'),
        ('{"item":"%s","country":"de","state":"removed","reported":"%s","changed":"%s"}' % (url, T1, T1), 'lowercase country'),
        ('{"item":"%s","country":"","state":"removed","reported":"%s","changed":"%s"}' % (url, T1, T1), 'empty country'),
        ('{"item":"%s","country":null,"state":"removed","reported":"%s","changed":"%s"}' % (url, T1, T1), 'null country'),
        ('{"item":"%s","state":"gone","reported":"%s","changed":"%s"}' % (url, T1, T1), 'unknown state'),
        ('{"item":"%s","state":3,"reported":"%s","changed":"%s"}' % (url, T1, T1), 'numeric state'),
        ('{"item":"%s","state":"removed","reported":"%s","changed":"%s"}' % (url, T2, T1), 'changed before reported'),
        ('{"item":"%s","state":"reported","reported":"%s","changed":"%s"}' % (url, T1, T2), 'reported state changed later'),
        ('{"item":"%s","state":"removed","reported":"%s","changed":"%s","note":"x"}' % (url, T1, T1), 'unknown key'),
        ('{"item":"%s","state":"removed","state":"removed","reported":"%s","changed":"%s"}' % (url, T1, T1), 'duplicate key'),
        ('{"item":"%s","state":"removed","reported":%d,"changed":"%s"}' % (url, ts(T1), T1), 'integer time'),
    ]:
        add('status-bad-json', js, why)
    return '\n'.join(L) + '\n'

import sys
d = sys.argv[1]
open(d + '/hashes.txt', 'w').write(hashes())
open(d + '/urls.txt', 'w').write(urls())
open(d + '/records.txt', 'w').write(records())
