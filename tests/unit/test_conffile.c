/*
 * test_conffile.c: the configuration file parser (core/conffile.h) and
 * its reading from disk (net/fileio.h: fileio_load_conffile).  Values
 * come out in file order with their line numbers; every malformed line
 * is refused with the number of that line, never skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "core/conffile.h"
#include "core/err.h"
#include "net/fileio.h"

static const struct conffile_opt opts[] = {
	{ "max-peers", true },
	{ "peer", true },
	{ "path", true },
	{ "no-dht", false },
	{ "no-tui", false },
};
#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

static int
parse(struct conffile *cf, const char *text, struct thr_error *err)
{
	memset(err, 0, sizeof(*err));
	return conffile_parse(cf, text, strlen(text), opts, NOPTS, err);
}

Test(conffile, values_in_order_with_lines)
{
	struct conffile cf;
	struct thr_error err;

	cr_assert_eq(parse(&cf, "# comment\n\nmax-peers = 12\n"
	    "  peer=127.0.0.1:1  \n\tno-dht\npeer = 10.0.0.1:2", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(cf.n, 4);
	cr_assert_str_eq(cf.items[0].name, "max-peers");
	cr_assert_str_eq(cf.items[0].value, "12");
	cr_assert_eq(cf.items[0].line, 3);
	cr_assert_str_eq(cf.items[1].value, "127.0.0.1:1");
	cr_assert_eq(cf.items[1].line, 4);
	cr_assert_str_eq(cf.items[2].name, "no-dht");
	cr_assert_null(cf.items[2].value);
	cr_assert_eq(cf.items[2].line, 5);
	/* The last line has no newline: still terminated. */
	cr_assert_str_eq(cf.items[3].value, "10.0.0.1:2");
	cr_assert_eq(cf.items[3].line, 6);
	conffile_release(&cf);
}

Test(conffile, quotes_keep_spaces)
{
	struct conffile cf;
	struct thr_error err;

	cr_assert_eq(parse(&cf, "path = \" a b \"\r\npeer='x'\n", &err), 0);
	cr_assert_eq(cf.n, 2);
	cr_assert_str_eq(cf.items[0].value, " a b ");
	cr_assert_str_eq(cf.items[1].value, "x");
	conffile_release(&cf);
}

Test(conffile, flag_values)
{
	struct conffile cf;
	struct thr_error err;

	cr_assert_eq(parse(&cf, "no-dht = yes\nno-tui = FALSE\n", &err), 0);
	cr_assert_eq(cf.n, 1, "a false flag is dropped");
	cr_assert_str_eq(cf.items[0].name, "no-dht");
	conffile_release(&cf);
	cr_assert_eq(parse(&cf, "no-dht = 1\nno-tui = on\n", &err), 0);
	cr_assert_eq(cf.n, 2);
	conffile_release(&cf);
}

Test(conffile, dashes_tolerated)
{
	struct conffile cf;
	struct thr_error err;

	cr_assert_eq(parse(&cf, "--no-dht\n", &err), 0);
	cr_assert_eq(cf.n, 1);
	conffile_release(&cf);
}

Test(conffile, unknown_key_names_line)
{
	struct conffile cf;
	struct thr_error err;

	cr_assert_eq(parse(&cf, "no-dht\n# x\nmax-pears = 3\n", &err),
	    THR_EINVAL);
	cr_assert_eq(cf.err_line, 3);
	cr_assert_eq(err.offset, 11);
	cr_assert(strstr(err.msg, "max-pears") != NULL, "%s", err.msg);
	conffile_release(&cf);
}

Test(conffile, bad_lines)
{
	static const struct {
		const char	*text;
		unsigned	 line;
	} bad[] = {
		{ "max-peers\n", 1 },		/* value missing */
		{ "max-peers =\n", 1 },		/* empty value */
		{ "\n\nno-dht = maybe\n", 3 },	/* not a boolean */
		{ "no-dht = yesyesyesyes\n", 1 },
		{ "path = \"open\n", 1 },	/* unterminated quote */
		{ " = 3\n", 1 },		/* no name */
		{ "peer = 1\nmax peers = 2\n", 2 },
	};
	struct conffile cf;
	struct thr_error err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(&cf, bad[i].text, &err), THR_EINVAL,
		    "case %zu", i);
		cr_assert_eq(cf.err_line, bad[i].line, "case %zu", i);
		cr_assert_neq(err.msg[0], '\0');
		conffile_release(&cf);
	}
}

Test(conffile, nul_byte_refused)
{
	static const char text[] = "no-dht\nmax-peers = 1\0 2\n";
	struct conffile cf;
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	cr_assert_eq(conffile_parse(&cf, text, sizeof(text) - 1, opts, NOPTS,
	    &err), THR_EINVAL);
	cr_assert_eq(cf.err_line, 2);
	conffile_release(&cf);
}

Test(conffile, not_terminated_input)
{
	/* The value ends at the buffer's end: no byte past len is read. */
	char *text = malloc(14);
	struct conffile cf;
	struct thr_error err;

	cr_assert_not_null(text);
	memcpy(text, "max-peers = 77", 14);
	cr_assert_eq(conffile_parse(&cf, text, 14, opts, NOPTS, &err), 0);
	cr_assert_str_eq(cf.items[0].value, "77");
	free(text);
	conffile_release(&cf);
	memcpy(text = malloc(9), "no-dht=no", 9);
	cr_assert_eq(conffile_parse(&cf, text, 9, opts, NOPTS, &err), 0);
	cr_assert_eq(cf.n, 0);
	free(text);
	conffile_release(&cf);
}

Test(conffile, limits)
{
	struct conffile cf;
	struct thr_error err;
	size_t len = (CONFFILE_MAX_ITEMS + 1) * 7;
	char *text = malloc(len + 1);

	cr_assert_not_null(text);
	for (size_t i = 0; i <= CONFFILE_MAX_ITEMS; i++)
		memcpy(text + i * 7, "no-dht\n", 7);
	cr_assert_eq(conffile_parse(&cf, text, len, opts, NOPTS, &err),
	    THR_ELIMIT);
	cr_assert_eq(cf.err_line, CONFFILE_MAX_ITEMS + 1);
	conffile_release(&cf);
	free(text);
	cr_assert_eq(conffile_parse(&cf, "", CONFFILE_MAX_BYTES + 1, opts,
	    NOPTS, &err), THR_ELIMIT);
	conffile_release(&cf);
}

Test(conffile, load_missing_and_present)
{
	char dir[] = "/tmp/thr-conffile-XXXXXX", path[256];
	struct conffile cf;
	struct thr_error err;
	FILE *fp;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	cr_assert_eq(fileio_load_conffile(&cf, path, opts, NOPTS, &err),
	    THR_ENOENT);
	conffile_release(&cf);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("max-peers = 5\n", fp);
	fclose(fp);
	cr_assert_eq(fileio_load_conffile(&cf, path, opts, NOPTS, &err),
	    0);
	cr_assert_eq(cf.n, 1);
	cr_assert_str_eq(cf.items[0].value, "5");
	conffile_release(&cf);
	cr_assert_eq(fileio_load_conffile(&cf, dir, opts, NOPTS, &err),
	    THR_EIO);
	conffile_release(&cf);
	unlink(path);
	rmdir(dir);
}

Test(conffile, default_path)
{
	char out[64];

	cr_assert(conffile_default_path("/x", "/home/u", out, sizeof(out)));
	cr_assert_str_eq(out, "/x/thorrent/config");
	cr_assert(conffile_default_path("rel", "/home/u", out, sizeof(out)));
	cr_assert_str_eq(out, "/home/u/.config/thorrent/config");
	cr_assert(!conffile_default_path(NULL, NULL, out, sizeof(out)));
	cr_assert(!conffile_default_path("/a-very-long-directory-name-here",
	    NULL, out, 20));
	cr_assert_str_eq(out, "");
}
