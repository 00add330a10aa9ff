/*
 * test_harness.c: how thorrent demo and swarm read their children's
 * traces (src/cmd/harness.h): the fields of one line, a trace followed
 * while it grows (a partial last line waits, a line too long is skipped
 * and counted), and the seeded payload.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/harness.h"

static char path[64];

static void
make_file(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/thorrent-test-harness.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void
drop_file(void)
{
	unlink(path);
}

static void
append(const char *s, size_t n)
{
	FILE *fp = fopen(path, "a");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(s, 1, n, fp), n);
	cr_assert_eq(fclose(fp), 0);
}

static void
append_str(const char *s)
{
	append(s, strlen(s));
}

Test(harness, line_fields)
{
	const char *l = "{\"t\":12000,\"ev\":\"connect\",\"peer\":3,"
	    "\"addr\":\"127.0.2.1:6881\",\"dir\":\"out\"}";
	uint64_t v;
	char s[32];

	cr_assert(harness_line_t(l, &v));
	cr_assert_eq(v, 12000);
	cr_assert(harness_line_is(l, "connect"));
	cr_assert_not(harness_line_is(l, "conn"));
	cr_assert(harness_line_u64(l, "peer", &v));
	cr_assert_eq(v, 3);
	cr_assert(harness_line_str(l, "addr", s, sizeof(s)));
	cr_assert_str_eq(s, "127.0.2.1:6881");
	cr_assert(harness_line_str(l, "addr", s, 8));
	cr_assert_str_eq(s, "127.0.2", "cut to the room given");
	cr_assert_not(harness_line_u64(l, "addr", &v), "a string");
	cr_assert_not(harness_line_u64(l, "index", &v), "absent");
	cr_assert_not(harness_line_t("{\"ev\":\"x\",\"t\":1}", &v));
	cr_assert_not(harness_line_t("{\"t\":-1,\"ev\":\"x\"}", &v));
}

/* A peer names itself what it likes: keys inside its strings, which
 * the trace escapes, are not fields. */
Test(harness, keys_inside_strings_are_text)
{
	const char *l = "{\"t\":1,\"ev\":\"handshake\",\"peer\":1,"
	    "\"client\":\"x\\\",\\\"port\\\":9,\\\"ev\\\":\\\"stop\\\"\"}";
	uint64_t v;
	char s[64];

	cr_assert(harness_line_is(l, "handshake"));
	cr_assert_not(harness_line_is(l, "stop"));
	cr_assert_not(harness_line_u64(l, "port", &v));
	cr_assert(harness_line_str(l, "client", s, sizeof(s)));
	cr_assert_str_eq(s, "x\\\",\\\"port\\\":9,\\\"ev\\\":\\\"stop\\\"");
}

Test(harness, follows_a_growing_trace, .init = make_file,
    .fini = drop_file)
{
	struct harness_child c;

	memset(&c, 0, sizeof(c));
	snprintf(c.trace, sizeof(c.trace), "%s", path);
	append_str("{\"t\":0,\"ev\":\"listen\",\"port\":6881}\n"
	    "{\"t\":7000,\"ev\":\"pha");
	harness_follow(&c);
	cr_assert(c.seen.listening);
	cr_assert_eq(c.seen.port, 6881);
	cr_assert_not(c.seen.checked, "a partial line waits");
	append_str("se\",\"from\":\"checking\",\"to\":\"downloading\","
	    "\"why\":\"data checked\"}\n");
	harness_follow(&c);
	cr_assert(c.seen.checked);
	cr_assert_not(c.seen.complete);
	append_str("{\"t\":9000,\"ev\":\"announce_result\",\"ok\":false,"
	    "\"error\":\"x\"}\n");
	harness_follow(&c);
	cr_assert_not(c.seen.announced);
	append_str("{\"t\":9500,\"ev\":\"announce_result\",\"ok\":true,"
	    "\"peers\":2,\"interval\":1800}\n"
	    "{\"t\":12000,\"ev\":\"phase\",\"from\":\"downloading\","
	    "\"to\":\"seeding\",\"why\":\"download complete\"}\n"
	    "{\"t\":15000,\"ev\":\"stop\",\"downloaded\":100,"
	    "\"uploaded\":20,\"verified\":90}\n");
	harness_follow(&c);
	cr_assert(c.seen.announced);
	cr_assert(c.seen.complete);
	cr_assert_eq(c.seen.complete_us, 12000);
	cr_assert(c.seen.stopped);
	cr_assert_eq(c.seen.downloaded, 100);
	cr_assert_eq(c.seen.uploaded, 20);
	cr_assert_eq(c.seen.verified, 90);
	cr_assert_eq(c.bad_lines, 0);
}

/* Lines too long for a line (or for a whole read) are skipped and
 * counted; the next line is read as usual. */
Test(harness, skips_long_lines, .init = make_file, .fini = drop_file)
{
	struct harness_child c;
	size_t big = 3 * 65536 + 5;
	char *junk = malloc(big);

	cr_assert_not_null(junk);
	memset(junk, 'x', big);
	memset(&c, 0, sizeof(c));
	snprintf(c.trace, sizeof(c.trace), "%s", path);
	append(junk, HARNESS_LINE_MAX + 10);
	append_str("\n");
	append(junk, big);
	harness_follow(&c);
	cr_assert_eq(c.bad_lines, 2);
	append_str("\n{\"t\":1,\"ev\":\"listen\",\"port\":1}\nnot json\n");
	harness_follow(&c);
	cr_assert(c.seen.listening);
	cr_assert_eq(c.bad_lines, 3);
	free(junk);
}

Test(harness, seeded_payload_replays, .init = make_file,
    .fini = drop_file)
{
	uint64_t seed = 7;
	char other[80];
	FILE *a, *b;
	int x, y;

	snprintf(other, sizeof(other), "%s.2", path);
	cr_assert_eq(harness_write_payload(path, 100003, &seed), 0);
	cr_assert_eq(harness_write_payload(other, 100003, &seed), 0);
	a = fopen(path, "rb");
	b = fopen(other, "rb");
	cr_assert(a != NULL && b != NULL);
	fseek(a, 0, SEEK_END);
	cr_assert_eq(ftell(a), 100003);
	rewind(a);
	do {
		x = fgetc(a);
		y = fgetc(b);
		cr_assert_eq(x, y);
	} while (x != EOF);
	fclose(a);
	fclose(b);
	unlink(other);
}
